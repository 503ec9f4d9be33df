-- Agenda looks jobs up by payload with `data @> $1::jsonb` (Beacon cancels a campaign's
-- start/stopAt jobs that way on stop and delete). The expression index on
-- data->>'campaignId' could not serve that operator; a jsonb_path_ops GIN index does.
DROP INDEX "agenda_jobs_campaign_idx";
CREATE INDEX "agenda_jobs_data_idx" ON "agenda_jobs" USING gin (data jsonb_path_ops);
