// A pizza's review state as its owner and the admin see it (pure). pizza answers `status`
// (pending | approved | rejected) and `rejection_reason` (null unless rejected).

const LABELS = {
  pending: ['Awaiting review', 'badge pending'],
  approved: ['Approved', 'badge ok'],
  rejected: ['Rejected', 'badge bad'],
};

/** {status, label, className, reason} of a pizza; an answer without `status` falls back to
 *  `approved` (true: approved, else pending). */
export function reviewState(pizza) {
  let status = pizza && pizza.status;
  if (!Object.hasOwn(LABELS, status || '')) status = pizza && pizza.approved ? 'approved' : 'pending';
  const [label, className] = LABELS[status];
  const reason = status === 'rejected' && typeof pizza.rejection_reason === 'string' ? pizza.rejection_reason : null;
  return { status, label, className, reason };
}

/** The PATCH body of a rejection, or null when the reason is blank (the reason is required). */
export function rejectionBody(reason) {
  const r = (reason || '').trim();
  return r ? { approved: false, rejection_reason: r } : null;
}
