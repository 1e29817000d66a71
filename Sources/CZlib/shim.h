#ifndef HP_CZLIB_SHIM_H
#define HP_CZLIB_SHIM_H
#include <zlib.h>
/* deflateInit2 is a macro: a gzip-wrapped (windowBits 31) deflate stream. */
static inline int hp_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
}
#endif
