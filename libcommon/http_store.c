/* http_store.c -- http_reply_store_error() (contract: http_store.h). */
#include "http_store.h"

#include "http.h"
#include "log.h"
#include "store.h"

void http_reply_store_error(http_req_t *req, int rc, const char *what) {
    cJSON *fields = cJSON_CreateObject();
    cJSON_AddStringToObject(fields, "op", what ? what : "");
    cJSON_AddNumberToObject(fields, "rc", rc);
    cJSON_AddStringToObject(fields, "error", store_errmsg());
    log_fields(LOG_ERROR, "store error", fields);
    http_reply_problem(req, 503, "the store is unavailable");
}
