/**
 * The dashboard: the sign-in page while no usable token is held, otherwise the signed-in
 * shell (navigation + the page of the current path) with a GraphQL client for that token.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { EXPIRED_NOTICE, forgetToken, storedToken, storeToken, takeTokenFromFragment, tokenExpiry, tokenProblem } from './auth';
import { createDashboardClient } from './client';
import { Shell } from './components/Shell';
import { SignIn } from './pages/SignIn';

interface Session {
  token: string | null;
  notice: string | null;
}

/** A token from a sign-in link wins over a stored one; an unusable one shows why. */
function initialSession(): Session {
  const linked = takeTokenFromFragment();
  const token = linked ?? storedToken();
  if (!token) return { token: null, notice: null };
  const problem = tokenProblem(token);
  if (problem) {
    forgetToken();
    return { token: null, notice: problem };
  }
  storeToken(token);
  return { token, notice: null };
}

export function App() {
  const [session, setSession] = useState(initialSession);

  const signOut = useCallback((notice: string | null) => {
    forgetToken();
    setSession({ token: null, notice });
  }, []);

  const signIn = useCallback((token: string) => {
    storeToken(token);
    setSession({ token, notice: null });
  }, []);

  // A sign-in link opened in a tab that already shows the dashboard only changes the fragment.
  useEffect(() => {
    const onHashChange = () => {
      if (new URLSearchParams(window.location.hash.replace(/^#/, '')).has('token')) setSession(initialSession());
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  const { token } = session;
  const dashboardClient = useMemo(() => (token ? createDashboardClient(token, signOut) : null), [token, signOut]);
  useEffect(() => () => dashboardClient?.dispose(), [dashboardClient]);

  // Back to sign-in the moment the token expires, not at the next request.
  useEffect(() => {
    const expiry = token ? tokenExpiry(token) : null;
    if (!expiry) return;
    const timer = window.setTimeout(() => signOut(EXPIRED_NOTICE), Math.min(Math.max(expiry - Date.now(), 0), 2 ** 31 - 1));
    return () => window.clearTimeout(timer);
  }, [token, signOut]);

  if (!dashboardClient) return <SignIn notice={session.notice} onSignIn={signIn} />;
  return (
    <Provider value={dashboardClient.client}>
      <Shell onSignOut={() => signOut(null)} />
    </Provider>
  );
}
