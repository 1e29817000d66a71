#ifndef HP_CSQLITE_SHIM_H
#define HP_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
