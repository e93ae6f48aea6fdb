import type { DeviceEvent } from '../protocol/events.js';
import type { Decision, Rule, RuleContext } from './types.js';

/** Runs every rule on an event. A rule that throws is logged by the caller and skipped, never fatal. */
export class RulesEngine {
  constructor(private readonly rules: readonly Rule[]) {}

  evaluate(event: DeviceEvent, ctx: RuleContext, onRuleError: (rule: Rule, err: unknown) => void): Decision[] {
    const out: Decision[] = [];
    for (const rule of this.rules) {
      try {
        out.push(...rule.onEvent(event, ctx));
      } catch (err) {
        onRuleError(rule, err);
      }
    }
    return out;
  }
}
