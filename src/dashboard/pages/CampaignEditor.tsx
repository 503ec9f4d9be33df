/**
 * New campaign (/campaigns/new) and Edit campaign (/campaigns/:id/edit): one form for both.
 * Save sends every field; the API's errors appear at the fields their paths name (the rest
 * above the form) and the form keeps what was typed. A saved campaign opens its page.
 */
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { CampaignEditorDocument, CreateCampaignDocument, UpdateCampaignDocument, type SaveErrorFragment } from '../generated/graphql';
import { Link, navigate } from '../router';
import { ErrorMessage } from '../components/CampaignBits';
import { AudienceField } from '../editor/AudienceField';
import { FieldErrors } from '../editor/FieldErrors';
import { MessageField } from '../editor/MessageField';
import { PreviewField } from '../editor/PreviewField';
import { SenderField } from '../editor/UserPicker';
import { EMPTY_FORM, formFromCampaign, inputFromForm, placeError, type EditorForm, type FieldKey, type SaveErrors } from '../editor/form';
import { NotFound } from '../components/NotFound';

const NO_ERRORS: SaveErrors = { fields: {}, general: [] };

export function NewCampaignPage() {
  return <CampaignEditor title="New campaign" initial={EMPTY_FORM} />;
}

export function EditCampaignPage({ id }: { id: string }) {
  const [result] = useQuery({ query: CampaignEditorDocument, variables: { id }, requestPolicy: 'network-only' });
  const campaign = result.data?.campaign;
  if (result.error) return <ErrorMessage title="Could not load the campaign." error={result.error} />;
  if (result.fetching && !campaign) return <p className="muted" role="status">Loading campaign…</p>;
  if (!campaign) {
    return <NotFound what="Campaign" id={id} listPath="/campaigns" />;
  }
  if (campaign.status !== 'DRAFT' && campaign.status !== 'SCHEDULED') {
    return (
      <section>
        <h1>Edit campaign</h1>
        <p className="notice">
          “{campaign.name}” has begun delivery, so it can no longer be edited. <Link to={`/campaigns/${encodeURIComponent(id)}`}>Back to the campaign</Link>.
        </p>
      </section>
    );
  }
  return <CampaignEditor key={campaign.id} title={`Edit campaign “${campaign.name}”`} id={campaign.id} initial={formFromCampaign(campaign)} />;
}

function CampaignEditor(props: { title: string; id?: string; initial: EditorForm }) {
  const ids = useId();
  const [form, setForm] = useState(props.initial);
  const [errors, setErrors] = useState<SaveErrors>(NO_ERRORS);
  // A refused preview's errors at the fields they name, until the next preview or save.
  const [previewErrors, setPreviewErrors] = useState<SaveErrors['fields']>({});
  const [createState, create] = useMutation(CreateCampaignDocument);
  const [updateState, update] = useMutation(UpdateCampaignDocument);
  const saving = createState.fetching || updateState.fetching;
  const set = (change: Partial<EditorForm>) => setForm((current) => ({ ...current, ...change }));
  const back = props.id ? `/campaigns/${encodeURIComponent(props.id)}` : '/campaigns';

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setErrors(NO_ERRORS);
    setPreviewErrors({});
    const input = inputFromForm(form);
    const response = props.id ? await update({ id: props.id, input }) : await create({ input });
    if (response.error) return setErrors({ fields: {}, general: [response.error.message] });
    const payload = response.data && ('createCampaign' in response.data ? response.data.createCampaign : response.data.updateCampaign);
    if (!payload) return setErrors({ fields: {}, general: ['The server sent no answer.'] });
    if ('campaign' in payload) return navigate(`/campaigns/${encodeURIComponent(payload.campaign.id)}`);
    setErrors(placeError(payload as SaveErrorFragment));
  };

  const errorsOf = (field: FieldKey) => {
    const all = [...(errors.fields[field] ?? []), ...(previewErrors[field] ?? [])];
    return all.length ? all : undefined;
  };
  const fieldCount = Object.keys(errors.fields).length;
  return (
    <section className="editor">
      <p className="breadcrumb">
        <Link to={back}>{props.id ? 'Back to the campaign' : 'Campaigns'}</Link>
      </p>
      <h1>{props.title}</h1>
      <form onSubmit={save} noValidate>
        {(errors.general.length > 0 || fieldCount > 0) && (
          <div className="error-box" role="alert">
            <strong>Not saved.</strong>
            {errors.general.map((message) => (
              <p key={message}>{message}</p>
            ))}
            {fieldCount > 0 && <p>See the {fieldCount === 1 ? 'field' : 'fields'} marked below.</p>}
          </div>
        )}
        <div className="card form-grid">
          <TextField id={`${ids}-name`} label="Name" errors={errorsOf('name')}>
            <input id={`${ids}-name`} value={form.name} maxLength={128} onChange={(e) => set({ name: e.target.value })} />
          </TextField>
          <TextField id={`${ids}-description`} label="Description" errors={errorsOf('description')}>
            <textarea id={`${ids}-description`} rows={2} value={form.description} onChange={(e) => set({ description: e.target.value })} />
          </TextField>
          <SenderField value={form.sender} onChange={(sender) => set({ sender })} errors={errorsOf('sender')} />
        </div>
        <div className="card">
          <AudienceField value={form} onChange={set} errors={errorsOf('audience')} />
        </div>
        <div className="card">
          <MessageField value={form.message} onChange={(message) => set({ message })} errors={errorsOf('message')} />
          <PreviewField form={form} onFieldErrors={setPreviewErrors} />
        </div>
        <div className="card form-grid">
          <h2 className="span-all">Channels and delivery</h2>
          <CheckField label="Create channels" checked={form.createChannels} onChange={(createChannels) => set({ createChannels })} errors={errorsOf('createChannels')} />
          <TextField id={`${ids}-type`} label="Channel type" errors={errorsOf('channelType')}>
            <input id={`${ids}-type`} value={form.channelType} placeholder="messaging" onChange={(e) => set({ channelType: e.target.value })} />
          </TextField>
          <TextField id={`${ids}-cid`} label="Channel id template" errors={errorsOf('channelIdTemplate')}>
            <input id={`${ids}-cid`} value={form.channelIdTemplate} placeholder="{{user.id}}-{{sender.id}}" onChange={(e) => set({ channelIdTemplate: e.target.value })} />
          </TextField>
          <TextField id={`${ids}-mode`} label="Sender mode" errors={errorsOf('senderMode')}>
            <select id={`${ids}-mode`} value={form.senderMode} onChange={(e) => set({ senderMode: e.target.value as EditorForm['senderMode'] })}>
              <option value="">Default (new channels only)</option>
              <option value="INCLUDE">Include</option>
              <option value="EXCLUDE">Exclude</option>
            </select>
          </TextField>
          <CheckField label="Skip push" checked={form.skipPush} onChange={(skipPush) => set({ skipPush })} errors={errorsOf('skipPush')} />
          <CheckField label="Skip webhooks" checked={form.skipWebhook} onChange={(skipWebhook) => set({ skipWebhook })} errors={errorsOf('skipWebhook')} />
        </div>
        <div className="actions form-actions">
          <Link to={back} className="button">
            Cancel
          </Link>
          <button type="submit" className="primary" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </section>
  );
}

function TextField(props: { id: string; label: string; errors?: string[]; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      <FieldErrors errors={props.errors} />
    </div>
  );
}

function CheckField(props: { label: string; checked: boolean; onChange: (checked: boolean) => void; errors?: string[] }) {
  return (
    <div className="field check-field">
      <label>
        <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} /> {props.label}
      </label>
      <FieldErrors errors={props.errors} />
    </div>
  );
}
