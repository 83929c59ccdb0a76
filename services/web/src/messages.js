// Problems as people read them: a field error names the field as its form labels it
// ("Current password is incorrect."), never by its wire name (current_password), and every
// message reads as a sentence. Also the rules of a username and a password, shown under
// their fields before anything is sent (auth checks the same: auth.h, users.c).

const LABELS = {
  username: 'Username',
  email: 'Email',
  name: 'Name',
  password: 'Password',
  current_password: 'Current password',
  title: 'Title',
  description: 'Description',
  kind: 'Kind',
  thumbnail_url: 'Photo URL',
  picture: 'Photo',
  pizzeria_id: 'Pizzeria',
  address: 'Address',
  phone: 'Phone',
  body: 'Tweet',
  reason: 'Reason',
  rejection_reason: 'Reason',
  liked: 'Verdict',
};

export const USERNAME_RULE = '3 to 30 characters: letters, digits, _ . or - (no spaces).';
export const PASSWORD_RULE = 'At least 8 characters.';

/** The name a form gives `field`: its label, else the wire name made readable. */
export function fieldLabel(field) {
  if (Object.hasOwn(LABELS, field)) return LABELS[field];
  const words = String(field).replace(/[_.-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : 'This field';
}

/** `text` as a sentence: a capital first letter and a full stop (unless it has one). */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?…:)”"]$/.test(s) ? s : `${s}.`;
}

/** A field error as a sentence naming the field: ("current_password", "is incorrect") ->
 *  "Current password is incorrect."; a message that is a sentence of its own stays so. */
export function fieldSentence(field, message) {
  const m = String(message || '').trim();
  if (!m) return `${fieldLabel(field)} is not valid.`;
  if (/^[A-Z]/.test(m)) return sentence(m);
  return sentence(`${fieldLabel(field)} ${m}`);
}
