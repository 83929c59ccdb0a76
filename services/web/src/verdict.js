// A verdict on a pizza (PUT /api/v1/likes/{pizza_id}) and taking it back. saveVerdict first
// reads the caller's verdict (GET, 404: none) so that undoVerdict can restore exactly what
// was there: DELETE when there was none, else PUT the previous one back.

const path = (pizzaId) => `/api/v1/likes/${encodeURIComponent(pizzaId)}`;

/** Saves the verdict; answers {pizzaId, liked, previous} (previous: true, false or null). */
export async function saveVerdict(api, pizzaId, liked) {
  let previous = null;
  try {
    previous = (await api.get(path(pizzaId))).liked;
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  await api.put(path(pizzaId), { liked });
  return { pizzaId, liked, previous };
}

/** Restores what saveVerdict replaced. */
export async function undoVerdict(api, { pizzaId, previous }) {
  if (previous === null) {
    try {
      await api.del(path(pizzaId));
    } catch (e) {
      if (e.status !== 404) throw e; // already gone: nothing to take back
    }
  } else {
    await api.put(path(pizzaId), { liked: previous });
  }
}
