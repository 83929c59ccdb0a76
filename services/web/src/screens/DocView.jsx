// A readable view of a YAML document of this origin (a service's OpenAPI file through the
// gateway, or the AsyncAPI file of the build), whatever content type it is served with.
import { useEffect, useState } from 'react';
import { ProblemMessage } from '../ui.jsx';
import { ApiError, problemFrom } from '../api.js';
import { Link } from '../router.jsx';

export function DocView({ url }) {
  const [text, setText] = useState(null);
  const [error, setError] = useState(null);
  const ok = typeof url === 'string' && url.startsWith('/') && !url.startsWith('//');

  useEffect(() => {
    if (!ok) return;
    let live = true;
    setText(null);
    setError(null);
    fetch(url, { headers: { Accept: 'application/yaml, text/yaml, text/plain' } })
      .then(async (res) => {
        const body = await res.text();
        if (!res.ok) throw problemFrom(res.status, null);
        if (live) setText(body);
      })
      .catch((e) => live && setError(e instanceof ApiError ? e : new ApiError({ title: 'Network error', detail: 'The document could not be fetched.' })));
    return () => {
      live = false;
    };
  }, [url, ok]);

  return (
    <section>
      <p><Link to="/status">← Services</Link></p>
      <h1>{ok ? url.split('/').filter(Boolean).slice(-2).join(' / ') : 'Document'}</h1>
      {!ok && <p className="problem" role="alert">No document given.</p>}
      <ProblemMessage error={error} what="Could not load the document" />
      {ok && <p><a href={url}>Raw file</a></p>}
      {text !== null && <pre className="doc" tabIndex={0} aria-label="Document text">{text}</pre>}
    </section>
  );
}
