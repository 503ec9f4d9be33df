/**
 * The campaigns list: filter by status and name, sort, page through, watch progress live
 * (one `campaignUpdated` subscription for the whole list).
 */
import { useEffect, useId, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { CampaignListDocument, type CampaignFilter, type CampaignSort, type CampaignStatus } from '../generated/graphql';
import { audienceOf, formatCount, formatDateTime, STATUS_LABELS, STATUSES } from '../format';
import { useLiveCampaigns } from '../live';
import { Link, navigate } from '../router';
import { useDebounced } from '../debounce';
import { ErrorMessage, Progress, StatusBadge } from '../components/CampaignBits';
import { Pager, countOf } from '../components/Pager';
import { useCursorPages } from '../paging';

const PAGE_SIZE = 25;

const SORTS: Record<string, { label: string; sort: CampaignSort[] }> = {
  newest: { label: 'Newest first', sort: [{ field: 'CREATED_AT', direction: 'DESC' }] },
  oldest: { label: 'Oldest first', sort: [{ field: 'CREATED_AT', direction: 'ASC' }] },
  name: { label: 'Name A–Z', sort: [{ field: 'NAME', direction: 'ASC' }] },
  nameDesc: { label: 'Name Z–A', sort: [{ field: 'NAME', direction: 'DESC' }] },
  status: { label: 'Status', sort: [{ field: 'STATUS', direction: 'ASC' }, { field: 'CREATED_AT', direction: 'DESC' }] },
  scheduled: { label: 'Scheduled time', sort: [{ field: 'SCHEDULED_FOR', direction: 'ASC' }] },
  updated: { label: 'Recently changed', sort: [{ field: 'UPDATED_AT', direction: 'DESC' }] },
};

/** Filters and order as the address bar holds them (`?status=…&name=…&sort=…`), so a reload or a shared link keeps them. */
function initialView(): { status: CampaignStatus | ''; name: string; sortKey: string } {
  const params = new URLSearchParams(window.location.search);
  const status = params.get('status') as CampaignStatus | null;
  const sortKey = params.get('sort') ?? '';
  return {
    status: status && STATUSES.includes(status) ? status : '',
    name: params.get('name') ?? '',
    sortKey: sortKey in SORTS ? sortKey : 'newest',
  };
}

export function CampaignsPage() {
  const ids = useId();
  const [initial] = useState(initialView);
  const [status, setStatus] = useState(initial.status);
  const [name, setName] = useState(initial.name);
  const [sortKey, setSortKey] = useState(initial.sortKey);
  // Cursors of the pages before the current one; the last is the current page's `after`.
  const debouncedName = useDebounced(name.trim(), 250);

  const filter = useMemo<CampaignFilter>(() => {
    const conditions: CampaignFilter = {};
    if (status) conditions.status = { eq: status };
    if (debouncedName) conditions.name = { autocomplete: debouncedName };
    return conditions;
  }, [status, debouncedName]);

  // A new filter or order starts again from the first page, and is written to the address bar.
  useEffect(() => {
    const params = new URLSearchParams();
    if (status) params.set('status', status);
    if (debouncedName) params.set('name', debouncedName);
    if (sortKey !== 'newest') params.set('sort', sortKey);
    const search = params.size ? `?${params}` : '';
    if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}`);
  }, [filter, sortKey, status, debouncedName]);

  // Back to the first page when the filter or the order changes.
  const pages = useCursorPages(JSON.stringify([filter, sortKey]));
  const after = pages.cursor;
  const [result] = useQuery({
    query: CampaignListDocument,
    variables: { filter, sort: SORTS[sortKey]!.sort, first: PAGE_SIZE, after },
    requestPolicy: 'cache-and-network',
  });
  const connection = result.data?.campaigns;
  const live = useLiveCampaigns(result.data);

  return (
    <section>
      <div className="page-header">
        <h1>Campaigns</h1>
        {/* A button, as the spec names it; it opens the editor's page. */}
        <button type="button" className="primary" onClick={() => navigate('/campaigns/new')}>
          New campaign
        </button>
      </div>

      <div className="toolbar" role="search" aria-label="Filter campaigns">
        <div className="field">
          <label htmlFor={`${ids}-name`}>Name</label>
          <input id={`${ids}-name`} type="search" value={name} placeholder="Starts with…" onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={status} onChange={(e) => setStatus(e.target.value as CampaignStatus | '')}>
            <option value="">All statuses</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {STATUS_LABELS[value]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-sort`}>Sort</label>
          <select id={`${ids}-sort`} value={sortKey} onChange={(e) => setSortKey(e.target.value)}>
            {Object.entries(SORTS).map(([key, { label }]) => (
              <option key={key} value={key}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>

      {result.error && <ErrorMessage title="Could not load the campaigns." error={result.error} />}
      {!connection && !result.error && <p className="muted" role="status">Loading campaigns…</p>}
      {connection && connection.edges.length === 0 && (
        <div className="empty">
          {status || debouncedName ? (
            <p>No campaign matches these filters.</p>
          ) : (
            <p>
              No campaigns yet. <Link to="/campaigns/new">Create the first one</Link>.
            </p>
          )}
        </div>
      )}
      {connection && connection.edges.length > 0 && (
        <>
          <table className="table campaigns-table">
            <caption className="visually-hidden">Campaigns</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Audience</th>
                <th scope="col">Progress</th>
                <th scope="col">Errors</th>
                <th scope="col">Created</th>
                <th scope="col">Scheduled</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => {
                const campaign = live.get(node.id) ?? node;
                return (
                  <tr key={campaign.id}>
                    <td data-label="Name">
                      <Link to={`/campaigns/${encodeURIComponent(campaign.id)}`}>{campaign.name}</Link>
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={campaign.status} />
                    </td>
                    <td data-label="Audience" className="audience">
                      {audienceOf(campaign)}
                    </td>
                    <td data-label="Progress">
                      <Progress campaign={campaign} />
                    </td>
                    <td data-label="Errors" className={campaign.stats.messagesErrored ? 'errors' : undefined}>
                      {formatCount(campaign.stats.messagesErrored)}
                    </td>
                    <td data-label="Created">{formatDateTime(campaign.createdAt)}</td>
                    <td data-label="Scheduled">{formatDateTime(campaign.scheduledFor)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager
            label="Pages"
            summary={countOf(connection.totalCount, 'campaign', 'campaigns')}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
