/// How a writable register behaves when written: what it costs the device and whether it persists.
public enum WriteClass: String, Sendable, Hashable, CaseIterable {
    /// RAM-backed parameter: written as often as asked.
    case volatile
    /// Stored in the controller's flash: rate-limited per register, capped per day, unchanged values skipped.
    case eeprom
    /// A write-only trigger (IDM 1999 error acknowledge): a fixed value, no read-back.
    case pulse
    /// A value the controller forgets unless re-sent (IDM PV surplus, Daikin demand): refreshed on schedule.
    case cyclic
}
