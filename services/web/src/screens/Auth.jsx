// Sign up and log in. Both answer with the private user (the session lives in HttpOnly
// cookies set by auth); field errors from the problem details appear under their fields,
// and the rules of a username and a password are shown under them before sending.
import { api } from '../api.js';
import { PASSWORD_RULE, USERNAME_RULE } from '../messages.js';
import { Link } from '../router.jsx';
import { Field, ProblemMessage, useForm } from '../ui.jsx';

export function Login({ onLogin }) {
  const f = useForm({ username: '', password: '' });
  return (
    <section className="narrow">
      <h1>Log in</h1>
      <form onSubmit={(e) => f.submit(e, async (v) => {
        const r = await api.post('/api/v1/auth/login', { username: v.username, password: v.password });
        onLogin(r.user);
      })}>
        <Field label="Username" autoComplete="username" required {...f.bind('username')} error={f.fieldError('username')} />
        <Field label="Password" type="password" autoComplete="current-password" required {...f.bind('password')} error={f.fieldError('password')} />
        <ProblemMessage error={f.error} what="Could not log in" />
        <button type="submit" className="primary" disabled={f.busy}>Log in</button>
      </form>
      <p className="muted">New here? <Link to="/signup">Sign up</Link></p>
    </section>
  );
}

export function Signup({ onSignup }) {
  const f = useForm({ username: '', email: '', name: '', password: '' });
  return (
    <section className="narrow">
      <h1>Sign up</h1>
      <form onSubmit={(e) => f.submit(e, async (v) => {
        const body = { username: v.username, email: v.email, password: v.password };
        if (v.name.trim()) body.name = v.name.trim();
        onSignup(await api.post('/api/v1/auth/signup', body));
      })}>
        <Field label="Username" autoComplete="username" required minLength={3} maxLength={30}
          pattern="[A-Za-z0-9_.\-]{3,30}" title={USERNAME_RULE} hint={USERNAME_RULE}
          {...f.bind('username')} error={f.fieldError('username')} />
        <Field label="Email" type="email" autoComplete="email" required {...f.bind('email')} error={f.fieldError('email')} />
        <Field label="Name (optional)" autoComplete="name" maxLength={100} {...f.bind('name')} error={f.fieldError('name')} />
        <Field label="Password" type="password" autoComplete="new-password" required minLength={8}
          hint={PASSWORD_RULE} {...f.bind('password')} error={f.fieldError('password')} />
        <ProblemMessage error={f.error} what="Could not sign up" />
        <button type="submit" className="primary" disabled={f.busy}>Sign up</button>
      </form>
      <p className="muted">Have an account? <Link to="/login">Log in</Link></p>
    </section>
  );
}
