// Services: the service repository, one page listing every service.
// For each service, through the gateway's /services/<name>/: liveness (/health), readiness
// (/ready, naming the failing part), version and build time (/info), and its OpenAPI
// document (/openapi.yaml); plus the AsyncAPI document of the events, a static file of this
// build. Each service is asked on its own, so one that is down greys out only its card.
import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Link } from '../router.jsx';
import { RelTime, useNow } from '../ui.jsx';

export const SERVICES = [
  ['auth', 'Users, sessions and erasure'],
  ['pizza', 'Pizzerias and pizzas'],
  ['likes', 'Likes and dislikes'],
  ['tweets', 'Tweets'],
];

export function docLink(url) {
  return `/docs?url=${encodeURIComponent(url)}`;
}

async function probe(name) {
  const base = `/services/${name}`;
  const [health, ready, info] = await Promise.allSettled([
    api.get(`${base}/health`, { refresh: false }),
    api.get(`${base}/ready`, { refresh: false }),
    api.get(`${base}/info`, { refresh: false }),
  ]);
  return { health, ready, info };
}

export function Services() {
  const now = useNow(30000);
  const [round, setRound] = useState(0);
  return (
    <section>
      <h1>Services</h1>
      <p className="muted">
        Every Tizza service, as the gateway sees it now.{' '}
        <button type="button" className="link" onClick={() => setRound((r) => r + 1)}>Check again</button>
      </p>
      <div className="grid">
        {SERVICES.map(([name, what]) => <ServiceCard key={name} name={name} what={what} round={round} now={now} />)}
      </div>
      <section className="card" aria-labelledby="events-h">
        <h2 id="events-h">Events</h2>
        <p>The services talk through RabbitMQ: <code>user.deleted</code>, <code>user.erased</code>, <code>pizza.deleted</code>.</p>
        <p>
          <Link to={docLink('/events.asyncapi.yaml')}>AsyncAPI document of the events</Link>{' '}
          (<a href="/events.asyncapi.yaml">raw YAML</a>)
        </p>
      </section>
    </section>
  );
}

function ServiceCard({ name, what, round, now }) {
  const [state, setState] = useState(null);
  useEffect(() => {
    let live = true;
    setState(null);
    probe(name).then((s) => live && setState(s));
    return () => {
      live = false;
    };
  }, [name, round]);

  const h = state && state.health;
  const r = state && state.ready;
  const i = state && state.info;
  const up = h && h.status === 'fulfilled';
  const ready = r && r.status === 'fulfilled';
  const info = i && i.status === 'fulfilled' ? i.value : null;
  const failing = r && r.status === 'rejected' ? r.reason.detail || r.reason.message : '';
  const openapi = `/services/${name}/openapi.yaml`;

  return (
    <article className={`card service ${state && !up ? 'down' : ''}`} aria-labelledby={`svc-${name}`}>
      <h2 id={`svc-${name}`}>{name}</h2>
      <p className="muted">{what}</p>
      {!state ? (
        <p className="muted" role="status">Checking…</p>
      ) : (
        <dl className="facts">
          <dt>Health</dt>
          <dd><span className={up ? 'badge ok' : 'badge bad'}>{up ? 'up' : 'down'}</span></dd>
          <dt>Readiness</dt>
          <dd>
            <span className={ready ? 'badge ok' : 'badge bad'}>{ready ? 'ready' : 'not ready'}</span>
            {failing && <span className="muted"> {failing}</span>}
          </dd>
          <dt>Version</dt>
          <dd>{info ? info.version : 'unknown'}</dd>
          <dt>Built</dt>
          <dd>{info && info.buildtime ? <><RelTime iso={info.buildtime} now={now} /> <span className="muted">({info.buildtime})</span></> : 'unknown'}</dd>
          {info && Array.isArray(info.api_version) && info.api_version.length > 0 && (
            <>
              <dt>APIs</dt>
              <dd>{info.api_version.map((a) => <span key={a.version + a.links} className="api">{a.version} <code>{a.links}</code></span>)}</dd>
            </>
          )}
        </dl>
      )}
      <p>
        <Link to={docLink(openapi)}>OpenAPI document of {name}</Link> (<a href={openapi}>raw YAML</a>)
      </p>
    </article>
  );
}
