// Tweets: the timeline, newest first (GET /api/v2/tweets, paginated), with relative dates
// that keep up with the clock; a "How you doing?" box posts (POST /api/v2/tweets) and the
// author (or an admin) deletes (DELETE /api/v2/tweets/{id}). Reading needs no account.
// The box's text is kept as a draft (drafts.js) until it is posted, so a session that ends
// while writing loses nothing: it is back after logging in again.
import { useEffect, useState } from 'react';
import { api, pagePath, query } from '../api.js';
import { loadDraft, saveDraft, sessionStore } from '../drafts.js';
import { Link } from '../router.jsx';
import { ProblemMessage, RelTime, useNow } from '../ui.jsx';

const PAGE = 20;
const MAX = 280;

export function Tweets({ user }) {
  const now = useNow(10000);
  const [tweets, setTweets] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [body, setBody] = useState('');
  const [postError, setPostError] = useState(null);
  const [posting, setPosting] = useState(false);
  const [restored, setRestored] = useState(false);
  const userId = user ? user.id : null;

  useEffect(() => {
    const draft = userId ? loadDraft(sessionStore(), userId) : '';
    if (draft) {
      setBody(draft);
      setRestored(true);
    }
  }, [userId]);

  function edit(text) {
    setBody(text);
    saveDraft(sessionStore(), userId, text);
  }

  async function load(path, append) {
    setLoading(true);
    setError(null);
    try {
      const page = await api.get(path);
      setTweets((old) => (append ? [...old, ...page.results.filter((t) => !old.some((o) => o.id === t.id))] : page.results));
      setNext(pagePath(page.next));
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }
  const first = `/api/v2/tweets${query({ limit: PAGE, offset: 0 })}`;
  useEffect(() => {
    load(first, false);
  }, []);

  async function post(e) {
    e.preventDefault();
    setPosting(true);
    setPostError(null);
    try {
      const t = await api.post('/api/v2/tweets', { body });
      setTweets((old) => [t, ...old]);
      edit('');
      setRestored(false);
    } catch (err) {
      setPostError(err);
    } finally {
      setPosting(false);
    }
  }

  async function remove(t) {
    setError(null);
    try {
      await api.del(`/api/v2/tweets/${t.id}`);
      setTweets((old) => old.filter((x) => x.id !== t.id));
    } catch (err) {
      setError(err);
    }
  }

  const left = MAX - [...body].length;
  return (
    <section>
      <h1>Tweets</h1>
      {user ? (
        <form className="card tweet-box" onSubmit={post}>
          <label htmlFor="tweet-body">How you doing?</label>
          <textarea id="tweet-body" rows={3} value={body} onChange={(e) => edit(e.target.value)}
            aria-describedby="tweet-left" required />
          <div className="tweet-actions">
            <span id="tweet-left" className={left < 0 ? 'over' : 'muted'}>{left} characters left</span>
            <button type="submit" className="primary" disabled={posting || left < 0 || !body.trim()}>Tweet now</button>
          </div>
          {restored && body && <p className="muted" role="status">Your unsent tweet is back.</p>}
          <ProblemMessage error={postError} what="Could not tweet" />
        </form>
      ) : (
        <p className="muted"><Link to="/login">Log in</Link> to tweet.</p>
      )}
      <ProblemMessage error={error} what="Tweets are unavailable" />
      <button type="button" className="link" onClick={() => load(first, false)}>Refresh</button>
      <ol className="timeline" aria-label="Timeline">
        {tweets.map((t) => (
          <li key={t.id} className="tweet">
            <div className="tweet-head">
              <strong>@{t.tweetedby}</strong> <span className="muted">· <RelTime iso={t.timestamp} now={now} /></span>
            </div>
            <p className="tweet-body">{t.body}</p>
            {user && (user.id === t.user_id || user.role === 'admin') && (
              <button type="button" className="link danger" onClick={() => remove(t)}>Delete</button>
            )}
          </li>
        ))}
      </ol>
      {!loading && !error && tweets.length === 0 && <p className="empty">No tweets yet.</p>}
      {next && <button type="button" onClick={() => load(next, true)} disabled={loading}>Load more</button>}
      {loading && <p className="muted" role="status">Loading…</p>}
    </section>
  );
}
