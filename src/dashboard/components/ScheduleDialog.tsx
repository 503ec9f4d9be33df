/**
 * Schedule a campaign: a start time (and an optional stop time) entered in the browser's time
 * zone and shown in UTC too, since the server and its logs speak UTC.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';

/** `datetime-local` text (local time, no zone) → a Date, or null when empty or unreadable. */
function fromLocalInput(value: string): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A Date as `datetime-local` wants it: local time, minutes precision. */
function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function utcText(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
}

export function ScheduleDialog(props: {
  campaignName: string;
  busy: boolean;
  error: string | null;
  onSchedule: (scheduledFor: Date, stopAt: Date | null) => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const ids = useId();
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [start, setStart] = useState(() => toLocalInput(new Date(Date.now() + 3600_000)));
  const [stop, setStop] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const startAt = fromLocalInput(start);
  const stopAt = fromLocalInput(stop);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!startAt) setProblem('Choose when the campaign starts.');
    else if (stopAt && stopAt <= startAt) setProblem('The stop time must be after the start time.');
    else {
      setProblem(null);
      props.onSchedule(startAt, stopAt);
    }
  };
  const message = problem ?? props.error;

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={`${ids}-title`}
      onCancel={(event) => {
        event.preventDefault();
        props.onCancel();
      }}
    >
      <form onSubmit={submit} className="dialog-form">
        <h2 id={`${ids}-title`}>Schedule “{props.campaignName}”</h2>
        <p className="muted">Times are in your time zone ({timeZone}).</p>
        <div className="field">
          <label htmlFor={`${ids}-start`}>Start at</label>
          <input id={`${ids}-start`} type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required />
          <span className="muted">{utcText(startAt)}</span>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-stop`}>Stop at (optional)</label>
          <input id={`${ids}-stop`} type="datetime-local" value={stop} onChange={(e) => setStop(e.target.value)} />
          <span className="muted">{utcText(stopAt)}</span>
        </div>
        {message && (
          <p className="error-box" role="alert">
            {message}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={props.busy}>
            Schedule
          </button>
        </div>
      </form>
    </dialog>
  );
}
