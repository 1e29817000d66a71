#ifndef HP_CMOSQUITTO_SHIM_H
#define HP_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#endif
