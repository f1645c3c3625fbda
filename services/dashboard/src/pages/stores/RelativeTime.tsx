// "3 minutes ago", with the exact time on hover (title) and for machines (dateTime); kept current while shown.
import { useEffect, useState } from "react";
import { exactTime, relativeTime } from "../../stores/time";

export function RelativeTime({ iso }: { iso: string }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), 30_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <time dateTime={iso} title={exactTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}
