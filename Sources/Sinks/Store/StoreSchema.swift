/// Schema migrations of the SQLite store, applied in order by `PRAGMA user_version`.
enum StoreSchema {
    static let migrations: [String] = [
        """
        CREATE TABLE heatpumps (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            location TEXT NOT NULL DEFAULT '',
            manufacturer TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL,
            connection TEXT NOT NULL,          -- JSON: the modbus block
            config TEXT NOT NULL,              -- JSON: the whole device spec
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            heatpump_id TEXT,
            kind TEXT NOT NULL,                -- device_up, device_down, restart, failed, device_stopped, config_applied, config_rejected, …
            message TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX events_by_device ON events (heatpump_id, at);
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            rule TEXT NOT NULL,
            heatpump_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            raised_at REAL NOT NULL,
            resolved_at REAL,
            value REAL,
            message TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX alerts_open ON alerts (heatpump_id, rule, resolved_at);
        CREATE TABLE write_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            heatpump_id TEXT NOT NULL,
            register TEXT NOT NULL,
            requested TEXT NOT NULL,
            previous TEXT,
            read_back TEXT,
            result TEXT NOT NULL,              -- ok, rejected, failed
            message TEXT NOT NULL DEFAULT '',
            client TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE readings (
            heatpump_id TEXT NOT NULL,
            at REAL NOT NULL,
            data TEXT NOT NULL                 -- JSON object: register name → value (enum labels as "<name>_label")
        );
        CREATE INDEX readings_by_device ON readings (heatpump_id, at);
        CREATE INDEX readings_by_time ON readings (at);
        """,
        """
        CREATE TABLE overrides (
            heatpump_id TEXT PRIMARY KEY,      -- a heatpumps.yml device switched at runtime
            enabled INTEGER NOT NULL,
            updated_at REAL NOT NULL
        );
        """,
        // Safe control: EEPROM wear budget, wanted values of cyclic registers, scheduled writes.
        """
        CREATE TABLE eeprom_writes (
            heatpump_id TEXT NOT NULL,
            register TEXT NOT NULL,
            at REAL NOT NULL                   -- a write that reached the device (counts against the budget)
        );
        CREATE INDEX eeprom_writes_by_register ON eeprom_writes (heatpump_id, register, at);
        CREATE TABLE cyclic_writes (
            heatpump_id TEXT NOT NULL,
            register TEXT NOT NULL,
            value TEXT NOT NULL,               -- as the operator gave it; re-sent every refresh_interval
            set_at REAL NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (heatpump_id, register)
        );
        CREATE TABLE write_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            heatpump_id TEXT NOT NULL,
            register TEXT NOT NULL,
            value TEXT NOT NULL,
            days TEXT NOT NULL,                -- e.g. mon-fri, daily, sat,sun
            time TEXT NOT NULL,                -- HH:MM or HH:MM:SS, the daemon's local time
            created_at REAL NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            last_run REAL                      -- when the job last fired
        );
        """,
        // Live settings (PUT /api/settings, `hpmanagerctl settings set`) and their audit.
        """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,              -- e.g. collector.poll_interval, influxdb.url, alerts
            value TEXT NOT NULL,               -- JSON: the value in force
            file_value TEXT NOT NULL,          -- JSON: collector.yml's value when it was set (an edit of the file since wins)
            updated_at REAL NOT NULL,
            client TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE settings_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            client TEXT NOT NULL,              -- http:<token name> (role), control-socket, daemon
            key TEXT NOT NULL,
            old TEXT NOT NULL,                 -- JSON, secrets redacted
            new TEXT NOT NULL,                 -- JSON, secrets redacted; null when the override was dropped
            source TEXT NOT NULL               -- runtime (set), collector.yml (reset or superseded by an edit of the file)
        );
        """,
        // Learnt anomaly baselines, one row per device (bounded: AnomalyInputs.maxRegisters × 8 bands).
        """
        CREATE TABLE anomaly_models (
            heatpump_id TEXT PRIMARY KEY,
            saved_at REAL NOT NULL,
            state BLOB NOT NULL                -- AnomalyDetector.encodedState()
        );
        """,
        // The notification outbox (`notify:`): every message per channel, and every delivery attempt.
        """
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at REAL NOT NULL,
            channel TEXT NOT NULL,
            route TEXT NOT NULL,
            group_key TEXT NOT NULL,
            status TEXT NOT NULL,              -- firing, resolved (of the group)
            severity TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,                -- JSON: the Notification (rendered per channel when sent)
            state TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, failed (refused by the receiver), dropped (too old / outbox full)
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            done_at REAL
        );
        CREATE INDEX notifications_due ON notifications (channel, state, id);
        CREATE TABLE notification_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            notification_id INTEGER NOT NULL,
            at REAL NOT NULL,
            channel TEXT NOT NULL,
            ok INTEGER NOT NULL,
            http_status INTEGER,
            error TEXT NOT NULL DEFAULT '',    -- never a secret: URLs reduced to scheme, host, port and path
            duration REAL NOT NULL
        );
        CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id);
        """,
        // Derived metrics (compressor counters, SCOP sums, cycle history) across daemon restarts.
        """
        CREATE TABLE derived_state (
            heatpump_id TEXT PRIMARY KEY,
            config TEXT NOT NULL,              -- the device's derived configuration when saved: restored only if unchanged
            state TEXT NOT NULL,               -- JSON
            saved_at REAL NOT NULL
        );
        """,
    ]
}
