import type { DeviceConfig } from '../config/schema.js';
import type { Decision, Rule, RuleContext } from './types.js';

const supervisionMs = (ctx: RuleContext, device: DeviceConfig) =>
  ctx.settings.deviceOffline.supervisionHours[device.kind] * 3600_000;

const lastSeen = (ctx: RuleContext, device: DeviceConfig) =>
  ctx.state.lastSeen[device.id] ?? ctx.state.watchedSince;

/** When a device the hub could not judge fairly (hub down, maintenance) is judged: after the grace. */
const afterGrace = (ctx: RuleContext) => ctx.now + ctx.settings.deviceOffline.startupGraceMinutes * 60_000;

function raise(
  ctx: RuleContext,
  device: DeviceConfig,
  noteKey: string,
  params: Record<string, string> = {},
): Decision[] {
  if (ctx.openAlert(`device_offline:${device.id}`)) return [];
  const critical = device.kind === 'sos_button' || device.kind === 'smoke_detector';
  return [
    {
      type: 'raise',
      kind: 'device_offline',
      severity: critical ? 'high' : 'medium',
      mergeKey: `device_offline:${device.id}`,
      homeId: ctx.home.id,
      deviceId: device.id,
      note: { key: noteKey, params },
    },
  ];
}

/**
 * A device that said it is offline (status or Last Will) and stays offline for `offlineMinutes`,
 * or that sent nothing at all within its kind's supervision interval (SOS/smoke 2 h, others 25 h).
 * Any message is supervision: heartbeats, events, status online.
 */
export const deviceOfflineRule: Rule = {
  id: 'device_offline',
  kinds: ['device_offline'],
  ensure(ctx) {
    for (const device of ctx.home.devices) {
      if (ctx.hasTimer(`sup:${device.id}`)) continue;
      // Only a new device lacks the timer (it re-arms itself when it fires), so never arm it in the past.
      const since = ctx.state.lastSeen[device.id] ?? ctx.state.watchedSince;
      ctx.setTimer(`sup:${device.id}`, Math.max(since, ctx.now) + supervisionMs(ctx, device), {
        deviceId: device.id,
      });
    }
  },
  onModeChange(from, ctx) {
    // Supervision was silenced during maintenance (its checks moved on by a whole interval each):
    // a device that has been silent past its interval is judged after the grace, as after a restart.
    if (from !== 'maintenance' || ctx.state.mode === 'maintenance') return;
    const judgeAt = afterGrace(ctx);
    for (const device of ctx.home.devices) {
      if (lastSeen(ctx, device) + supervisionMs(ctx, device) > ctx.now) continue;
      const key = `sup:${device.id}`;
      const due = ctx.timerDue(key);
      if (due === undefined || due > judgeAt) ctx.setTimer(key, judgeAt, { deviceId: device.id });
    }
  },
  onEvent(event, ctx) {
    const device = ctx.device;
    if (!device) return [];
    if (event.type === 'status.offline') {
      ctx.setTimer(`off:${device.id}`, event.at + ctx.settings.deviceOffline.offlineMinutes * 60_000, {
        deviceId: device.id,
      });
      return [];
    }
    // The supervision timer is not moved on every message: when it fires early it moves itself to
    // one interval after `lastSeen` (onTimer), so the check still falls where it always did. Set it
    // only when there is none, or when it is due later than that (a startup grace longer than the
    // interval).
    const sup = `sup:${device.id}`;
    const dueBy = event.at + supervisionMs(ctx, device);
    const due = ctx.timerDue(sup);
    if (due === undefined || due > dueBy) ctx.setTimer(sup, dueBy, { deviceId: device.id });
    // The offline countdown exists only while the device's last status was offline (it is set with
    // that status, and the status is cleared after the rules have seen this message).
    if (ctx.state.offline[device.id] !== undefined) ctx.cancelTimer(`off:${device.id}`);
    const mergeKey = `device_offline:${device.id}`;
    const open = ctx.openAlert(mergeKey);
    // The first message since the alert was raised: say so once, staff still resolve.
    if (open && (ctx.state.lastSeen[device.id] ?? 0) <= open.raisedAtMs) {
      return [{ type: 'annotate', mergeKey, note: { key: 'note.device_back_online' } }];
    }
    return [];
  },
  onTimer(key, data, ctx) {
    const device = ctx.home.devices.find((d) => d.id === data.deviceId);
    if (!device) return [];
    if (ctx.late) {
      // Not yet due by the device's last message: move on, as if the timer had followed every message.
      const moved = key.startsWith('sup:') ? lastSeen(ctx, device) + supervisionMs(ctx, device) : 0;
      if (moved >= ctx.now) {
        ctx.setTimer(key, moved, { deviceId: device.id });
        return [];
      }
      // Due while the hub was down: the hub could not hear the device then, so that is no evidence.
      // Give devices time to reconnect to the restarted hub before judging them.
      ctx.setTimer(key, afterGrace(ctx), { deviceId: device.id, afterRestart: true });
      return [];
    }
    if (key.startsWith('off:')) {
      if (ctx.state.offline[device.id] === undefined) return [];
      return raise(ctx, device, 'note.device_offline_status', {
        minutes: String(ctx.settings.deviceOffline.offlineMinutes),
      });
    }
    if (key.startsWith('sup:')) {
      const last = lastSeen(ctx, device);
      if (last + supervisionMs(ctx, device) > ctx.now) {
        ctx.setTimer(key, last + supervisionMs(ctx, device), { deviceId: device.id });
        return [];
      }
      ctx.setTimer(key, ctx.now + supervisionMs(ctx, device), { deviceId: device.id });
      return raise(ctx, device, 'note.device_silent', {
        hours: String(ctx.settings.deviceOffline.supervisionHours[device.kind]),
      });
    }
    return [];
  },
};
