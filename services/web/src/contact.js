// Links for a pizzeria's contact details: its phone as a tel: URI, its address on a map.

/** "tel:+390612345" from "+39 06 1234 5" (digits and a leading +); null without digits. */
export function telHref(phone) {
  const digits = String(phone || '').replace(/[^\d]/g, '');
  if (!digits) return null;
  return `tel:${/^\s*\+/.test(phone) ? '+' : ''}${digits}`;
}

/** A search for the address on OpenStreetMap; null for a blank address. */
export function mapHref(address) {
  const a = String(address || '').trim();
  return a ? `https://www.openstreetmap.org/search?query=${encodeURIComponent(a)}` : null;
}
