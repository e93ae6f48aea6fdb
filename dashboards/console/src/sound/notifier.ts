/** Browser notifications while the tab is hidden. Permission is asked on a user gesture only. */

export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined';
}

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

export async function askNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (!notificationsSupported()) return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

export function notifyIfHidden(
  tag: string,
  title: string,
  body: string,
  urgent: boolean,
  onClick: () => void,
): void {
  if (
    !notificationsSupported() ||
    Notification.permission !== 'granted' ||
    document.visibilityState !== 'hidden'
  )
    return;
  try {
    const n = new Notification(title, { body, tag, requireInteraction: urgent });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    // some platforms only allow notifications from a service worker; the sound still plays
  }
}
