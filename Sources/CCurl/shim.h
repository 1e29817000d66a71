#ifndef HP_CCURL_SHIM_H
#define HP_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt/getinfo are variadic and do not import into Swift: typed, non-variadic wrappers. */
typedef size_t (*hp_curl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode hp_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hp_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hp_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hp_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hp_curl_setopt_write_callback(CURL *h, CURLoption o, hp_curl_write_callback cb) { return curl_easy_setopt(h, o, cb); }
typedef int (*hp_curl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode hp_curl_setopt_xferinfo_callback(CURL *h, hp_curl_xferinfo_callback cb) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb); }
typedef size_t (*hp_curl_read_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
static inline CURLcode hp_curl_setopt_read_callback(CURL *h, hp_curl_read_callback cb) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, cb); }
static inline CURLcode hp_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
