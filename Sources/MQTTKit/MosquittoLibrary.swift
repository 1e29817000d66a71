import CMosquitto

/// `mosquitto_lib_init` is not thread-safe and must run once per process before any client is
/// made: a global `let` is initialised exactly once (swift_once), whichever thread gets there first.
enum MosquittoLibrary {
    private static let initialised: Int32 = mosquitto_lib_init()

    /// Initialises libmosquitto (once); the result of that one call.
    static func ensureInitialised() -> Int32 { initialised }
}
