export interface FeedEntry {
  seq: number;
  at: number;
  type: 'alert' | 'device' | 'home';
  homeId: string;
  /** The message body without `seq` (e.g. {"type":"alert","alert":{…}}). */
  body: Record<string, unknown>;
}
