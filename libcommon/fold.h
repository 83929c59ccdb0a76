/* fold -- the search form of a text: what a case- and accent-insensitive search compares.
 *
 * utf8proc maps the text to NFKD, folds its case (Unicode full case folding: "Straße" and
 * "STRASSE" fold alike), drops the combining marks ("Crème" becomes "creme") and
 * recomposes. A stored field holds the folded text beside the original, and a query is
 * folded the same way, so the store compares plain strings (STORE_CONTAINS, store.h). */
#ifndef TIZZA_FOLD_H
#define TIZZA_FOLD_H

/* The folded copy of UTF-8 `s` (malloc'd), or NULL when s is not valid UTF-8. */
char *text_fold(const char *s);

#endif
