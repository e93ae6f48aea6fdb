import { Alarm } from './alarm';

/** One alarm for the page, so the login button's gesture can unlock audio before the console mounts. */
export const sharedAlarm = new Alarm();
