/**
 * Message: the template text, and a list of the variables delivery fills in; choosing one
 * inserts its tag where the cursor is (a textarea keeps its selection when it loses focus).
 */
import { useId, useRef } from 'react';
import { FieldErrors } from './FieldErrors';

/** What templates can read (src/campaigns/templates.ts); custom data reads as `user.<key>`. */
const VARIABLES: { group: string; names: string[] }[] = [
  { group: 'Recipient (user)', names: ['user.name', 'user.id', 'user.role', 'user.language'] },
  { group: 'Sender', names: ['sender.name', 'sender.id', 'sender.role', 'sender.language'] },
  { group: 'Channel', names: ['channel.cid', 'channel.id', 'channel.type'] },
];

export function MessageField(props: { value: string; onChange: (text: string) => void; errors?: string[] }) {
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);

  const insert = (name: string) => {
    const element = textarea.current;
    const tag = `{{${name}}}`;
    const start = element?.selectionStart ?? props.value.length;
    const end = element?.selectionEnd ?? props.value.length;
    props.onChange(props.value.slice(0, start) + tag + props.value.slice(end));
    // After React has written the new value: the cursor goes right after the tag.
    requestAnimationFrame(() => {
      element?.focus();
      element?.setSelectionRange(start + tag.length, start + tag.length);
    });
  };

  return (
    <div className="field">
      <label htmlFor={id}>Message</label>
      <textarea
        id={id}
        ref={textarea}
        rows={6}
        placeholder="Hi {{user.name}}, …"
        aria-invalid={props.errors?.length ? true : undefined}
        aria-describedby={`${id}-errors`}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
      <div id={`${id}-errors`}>
        <FieldErrors errors={props.errors} />
      </div>
      <div className="choice-row">
        <label htmlFor={`${id}-variable`}>Insert variable</label>
        <select
          id={`${id}-variable`}
          value=""
          onChange={(event) => {
            if (event.target.value) insert(event.target.value);
          }}
        >
          <option value="">Choose…</option>
          {VARIABLES.map((group) => (
            <optgroup key={group.group} label={group.group}>
              {group.names.map((name) => (
                <option key={name} value={name}>{`{{${name}}}`}</option>
              ))}
            </optgroup>
          ))}
        </select>
      </div>
    </div>
  );
}
