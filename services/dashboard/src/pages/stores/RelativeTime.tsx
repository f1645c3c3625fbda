// "3 minutes ago", with the exact time on hover (title) and for machines (dateTime).
import { exactTime, relativeTime } from "../../stores/time";

export function RelativeTime({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={exactTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}
