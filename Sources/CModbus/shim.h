#ifndef HP_CMODBUS_SHIM_H
#define HP_CMODBUS_SHIM_H
#include <modbus.h>
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* MODBUS_ENOBASE-based macros (EMBXILADD, …) do not import into Swift: expose them as functions. */
static inline int hp_modbus_exception_errno(int exception_code) { return MODBUS_ENOBASE + exception_code; }
static inline int hp_modbus_enobase(void) { return MODBUS_ENOBASE; }
static inline int hp_modbus_embbaddata(void) { return EMBBADDATA; }
static inline int hp_modbus_embbadcrc(void) { return EMBBADCRC; }
static inline int hp_modbus_embmdata(void) { return EMBMDATA; }
static inline int hp_modbus_embbadslave(void) { return EMBBADSLAVE; }
static inline int hp_modbus_tcp_max_adu(void) { return MODBUS_TCP_MAX_ADU_LENGTH; }
static inline int hp_modbus_rtu_max_adu(void) { return MODBUS_RTU_MAX_ADU_LENGTH; }
#endif
