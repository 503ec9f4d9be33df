/**
 * One campaign: header with the actions its status allows (absent, not disabled, when not
 * allowed), live stats with send rate and time to finish, a chart of messages sent over time,
 * its recipients and a test send.
 */
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CampaignPageDocument,
  DeleteCampaignDocument,
  ResumeCampaignDocument,
  RetryFailedDocument,
  StartCampaignDocument,
  StopCampaignDocument,
  type CampaignRowFragment,
} from '../generated/graphql';
import { audienceOf, formatCount, formatDateTime } from '../format';
import { useLiveCampaign } from '../live';
import { Link, navigate } from '../router';
import { ErrorMessage, Progress, StatusBadge } from '../components/CampaignBits';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ScheduleDialog } from '../components/ScheduleDialog';
import { Recipients } from '../components/Recipients';
import { TestSend } from '../components/TestSend';
import { Timeline } from '../components/Timeline';
import { NotFound } from '../components/NotFound';

type Action = 'start' | 'schedule' | 'stop' | 'resume' | 'retry';

/** What each status allows (the server's transition table, src/campaigns/status.ts). */
function allowedActions(campaign: CampaignRowFragment): { actions: Action[]; deletable: boolean } {
  const failed = campaign.stats.messagesErrored > 0;
  switch (campaign.status) {
    case 'DRAFT':
      return { actions: ['start', 'schedule'], deletable: true };
    case 'SCHEDULED':
      return { actions: ['stop'], deletable: true };
    case 'IN_PROGRESS':
      return { actions: ['stop'], deletable: false };
    case 'STOPPED':
      return { actions: failed ? ['resume', 'retry'] : ['resume'], deletable: true };
    case 'COMPLETED':
      return { actions: failed ? ['retry'] : [], deletable: true };
    case 'FAILED':
      return { actions: [], deletable: true };
  }
}

const ACTION_LABELS: Record<Action, string> = { start: 'Start', schedule: 'Schedule', stop: 'Stop', resume: 'Resume', retry: 'Retry failed' };

/** Messages per second over the last ~10 s of live events, and the time left at that rate. */
function useSendRate(campaign: CampaignRowFragment | undefined): { rate: number | null; etaSeconds: number | null } {
  const samples = useRef<{ at: number; done: number }[]>([]);
  const [rate, setRate] = useState<number | null>(null);
  const done = campaign ? campaign.stats.messagesSent + campaign.stats.messagesErrored : 0;
  const running = campaign?.status === 'IN_PROGRESS';
  useEffect(() => {
    if (!running) {
      samples.current = [];
      setRate(null);
      return;
    }
    const now = Date.now();
    samples.current = [...samples.current.filter((s) => now - s.at <= 10_000), { at: now, done }];
    const first = samples.current[0]!;
    setRate(now - first.at >= 1000 ? ((done - first.done) * 1000) / (now - first.at) : null);
  }, [done, running]);
  const pending = campaign?.stats.pending ?? 0;
  return { rate, etaSeconds: rate && rate > 0 ? Math.ceil(pending / rate) : null };
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function CampaignPage({ id }: { id: string }) {
  const [result] = useQuery({ query: CampaignPageDocument, variables: { id } });
  const live = useLiveCampaign(id);
  const [actionError, setActionError] = useState<string | null>(null);
  const [actionNote, setActionNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [scheduling, setScheduling] = useState(false);
  const [scheduleError, setScheduleError] = useState<string | null>(null);
  const [, start] = useMutation(StartCampaignDocument);
  const [, stop] = useMutation(StopCampaignDocument);
  const [, resume] = useMutation(ResumeCampaignDocument);
  const [, retry] = useMutation(RetryFailedDocument);
  const [deleting, remove] = useMutation(DeleteCampaignDocument);
  const [busy, setBusy] = useState(false);

  const details = result.data?.campaign;
  const campaign = live ?? details ?? undefined;
  const { rate, etaSeconds } = useSendRate(campaign);

  if (result.error) return <ErrorMessage title="Could not load the campaign." error={result.error} />;
  if (result.fetching && !details) return <p className="muted" role="status">Loading campaign…</p>;
  if (!details || !campaign) {
    return <NotFound what="Campaign" id={id} listPath="/campaigns" />;
  }

  const schedule = async (scheduledFor: Date, stopAt: Date | null) => {
    setBusy(true);
    const response = await start({ id, scheduledFor: scheduledFor.toISOString(), stopAt: stopAt?.toISOString() ?? null });
    setBusy(false);
    const payload = response.data?.startCampaign;
    // A refused time keeps the dialog open with its input and the API's words.
    if (payload?.__typename === 'StartCampaignPayload') setScheduling(false);
    else setScheduleError(response.error?.message ?? (payload && 'message' in payload ? payload.message : 'Scheduling failed.'));
  };

  const run = async (action: Exclude<Action, 'schedule'>) => {
    setBusy(true);
    setActionError(null);
    setActionNote(null);
    const mutate = { start, stop, resume, retry }[action];
    const response = await mutate({ id });
    setBusy(false);
    const payload = response.data && Object.values(response.data)[0];
    if (response.error) setActionError(response.error.message);
    else if (payload && 'message' in payload) setActionError(payload.message);
    else if (payload && 'retried' in payload) {
      setActionNote(payload.retried === 1 ? '1 failed recipient is being retried.' : `${formatCount(payload.retried)} failed recipients are being retried.`);
    }
  };

  const confirmDelete = async () => {
    const response = await remove({ id });
    const payload = response.data?.deleteCampaign;
    if (payload?.__typename === 'DeleteCampaignPayload') navigate('/campaigns');
    else {
      setConfirming(false);
      setActionError(response.error?.message ?? (payload && 'message' in payload ? payload.message : 'Delete failed.'));
    }
  };

  const { actions, deletable } = allowedActions(campaign);
  const { stats } = campaign;
  return (
    <section>
      <p className="breadcrumb">
        <Link to="/campaigns">Campaigns</Link>
      </p>
      <div className="page-header">
        <h1>
          {campaign.name} <StatusBadge status={campaign.status} />
        </h1>
        <div className="actions">
          {actions.map((action) => (
            <button
              key={action}
              type="button"
              className={action === 'start' ? 'primary' : undefined}
              disabled={busy}
              onClick={() => {
                if (action !== 'schedule') return run(action);
                setScheduleError(null);
                setScheduling(true);
              }}
            >
              {ACTION_LABELS[action]}
            </button>
          ))}
          {(campaign.status === 'DRAFT' || campaign.status === 'SCHEDULED') && (
            <button type="button" disabled={busy} onClick={() => navigate(`/campaigns/${encodeURIComponent(id)}/edit`)}>
              Edit
            </button>
          )}
          {deletable && (
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
      </div>
      {details.description && <p className="muted">{details.description}</p>}
      {actionError && <ErrorMessage title="That did not work." error={{ message: actionError }} />}
      {actionNote && (
        <p className="note" role="status">
          {actionNote}
        </p>
      )}
      {campaign.failureReason && <ErrorMessage title="Failed:" error={{ message: campaign.failureReason }} />}

      <div className="card">
        <Progress campaign={campaign} />
        <dl className="stats">
          <Stat label="Recipients" value={formatCount(stats.recipientsTotal)} />
          <Stat label="Sent" value={formatCount(stats.messagesSent)} />
          <Stat label="Errored" value={formatCount(stats.messagesErrored)} />
          <Stat label="Pending" value={formatCount(stats.pending)} />
          <Stat label="Channels created" value={formatCount(stats.channelsCreated)} />
          <Stat label="Users read" value={formatCount(stats.usersRead)} />
          <Stat label="Read ratio" value={`${Math.round(stats.readRatio * 100)} %`} />
          {campaign.status === 'IN_PROGRESS' && (
            <>
              <Stat label="Send rate" value={rate === null ? 'measuring…' : `${formatCount(Math.round(rate))} messages/s`} />
              <Stat label="Time to finish" value={etaSeconds === null ? '—' : formatDuration(etaSeconds)} />
            </>
          )}
        </dl>
      </div>

      <div className="card">
        <dl className="details">
          <Stat label="Audience" value={audienceOf(campaign)} />
          <Stat label="Created" value={formatDateTime(campaign.createdAt)} />
          <Stat label="Scheduled for" value={formatDateTime(campaign.scheduledFor)} />
          <Stat label="Started at" value={formatDateTime(stats.startedAt)} />
          <Stat label="Completed at" value={formatDateTime(stats.completedAt)} />
          <Stat label="Stops at" value={formatDateTime(details.stopAt)} />
          <Stat label="Sender" value={details.senderId ?? '—'} />
        </dl>
        <h2>Message</h2>
        <pre className="message">{details.messageTemplate.text}</pre>
      </div>

      <Timeline campaignId={id} status={campaign.status} sent={stats.messagesSent} />
      <Recipients
        campaignId={id}
        status={campaign.status}
        counters={`${stats.recipientsTotal} ${stats.pending} ${stats.messagesErrored} ${stats.usersRead}`}
      />
      <TestSend campaignId={id} />

      {scheduling && (
        <ScheduleDialog
          campaignName={campaign.name}
          busy={busy}
          error={scheduleError}
          onSchedule={schedule}
          onCancel={() => setScheduling(false)}
        />
      )}
      {confirming && (
        <ConfirmDialog
          title={`Delete campaign “${campaign.name}”?`}
          confirmLabel="Delete"
          busy={deleting.fetching}
          onConfirm={confirmDelete}
          onCancel={() => setConfirming(false)}
        >
          Its recipient records are deleted with it. Messages already sent stay in their channels.
        </ConfirmDialog>
      )}
    </section>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
