/**
 * Preview: the form's current message rendered by the API for one recipient, exactly as
 * delivery would render it (in a transaction that is rolled back: nothing is sent or saved).
 * Errors naming a form field (a template error names Message) go to that field; errors about
 * the recipient show here.
 */
import { useId, useState } from 'react';
import { useClient } from 'urql';
import { TemplatePreviewDocument, type TemplatePreviewQuery } from '../generated/graphql';
import { FieldErrors } from './FieldErrors';
import { placePreviewError, previewInputFromForm, type EditorForm, type SaveErrors } from './form';
import { UserPicker, userLabel, type PickedUser } from './UserPicker';

type Preview = TemplatePreviewQuery['templatePreview'];

export function PreviewField(props: { form: EditorForm; onFieldErrors: (fields: SaveErrors['fields']) => void }) {
  const id = useId();
  const client = useClient();
  const [user, setUser] = useState<PickedUser | null>(null);
  const [channelCid, setChannelCid] = useState('');
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<{ for: string; result: Preview } | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  // Channel campaigns (channel segments) preview for a channel; the cid field shows with segments.
  const channelAudience = props.form.audienceKind === 'segments';
  const cid = channelAudience ? channelCid.trim() : '';
  const recipient = cid ? { channelCid: cid } : user ? { userId: user.id } : null;

  const run = async () => {
    if (!recipient) return;
    setBusy(true);
    setErrors([]);
    setPreview(null);
    props.onFieldErrors({});
    const response = await client
      .query(TemplatePreviewDocument, { input: previewInputFromForm(props.form, recipient) }, { requestPolicy: 'network-only' })
      .toPromise();
    setBusy(false);
    const result = response.data?.templatePreview;
    if (result) return setPreview({ for: cid || (user ? userLabel(user) : ''), result });
    const error = response.error?.graphQLErrors[0];
    if (!error) return setErrors([response.error?.message ?? 'The server sent no preview.']);
    const placed = placePreviewError(error.message, error.extensions.path);
    props.onFieldErrors(placed.fields);
    setErrors(placed.general.length ? placed.general : ['Not previewed: see the marked fields.']);
  };

  return (
    <section className="preview" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Preview</h3>
      <p className="muted">Renders the message as delivery would for one recipient. Nothing is sent.</p>
      <UserPicker
        label="Preview for"
        value={user}
        onChange={setUser}
        describe={(chosen) => (chosen ? <>For <strong>{userLabel(chosen)}</strong></> : 'No recipient chosen yet: search by name or id.')}
      />
      {channelAudience && (
        <div className="field">
          <label htmlFor={`${id}-cid`}>Preview channel</label>
          <input id={`${id}-cid`} value={channelCid} placeholder="messaging:general (channel segments)" onChange={(e) => setChannelCid(e.target.value)} />
        </div>
      )}
      <div className="actions">
        <button type="button" disabled={!recipient || busy} onClick={run}>
          {busy ? 'Rendering…' : 'Preview'}
        </button>
      </div>
      <FieldErrors errors={errors} />
      {preview && (
        <div className="preview-result" role="status" aria-label="Preview result">
          <p className="muted">
            For <strong>{preview.for}</strong> in <code>{preview.result.channelCid}</code>:{' '}
            {preview.result.personalized
              ? 'personalized (a conversation of its own).'
              : 'not personalized: the channel may be shared, so user.* tags render empty.'}
          </p>
          <pre className="message">{preview.result.text}</pre>
        </div>
      )}
    </section>
  );
}
