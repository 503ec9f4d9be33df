/** The page for an id that names nothing (deleted, or mistyped in the address bar). */
import { Link } from '../router';

interface NotFoundProps {
  /** `Campaign`, `Segment`. */
  what: string;
  id: string;
  /** Where the list of such things is (`/campaigns`). */
  listPath: string;
  /** What that list is called, when not `<what>s` (`users`, for a channel). */
  listName?: string;
}

export function NotFound({ what, id, listPath, listName }: NotFoundProps) {
  const plural = listName ?? `${what.toLowerCase()}s`;
  return (
    <section>
      <h1>{what} not found</h1>
      <p>
        There is no {what.toLowerCase()} with id <code>{id}</code>. <Link to={listPath}>Back to the {plural}</Link>.
      </p>
    </section>
  );
}
