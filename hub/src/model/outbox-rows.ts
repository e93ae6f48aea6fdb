/** What the time-series shipper reads from the store: rows of the journal and the feed log, by stream. */
export type StreamName = 'feed_alert' | 'feed_device' | 'journal';

export interface JournalRowLike {
  seq: number;
  device_id: string;
  home_id: string;
  received_at: number;
  type: string;
  payload: string;
}

export interface FeedRowLike {
  seq: number;
  at: number;
  home_id: string;
  data: string;
}
