#!/usr/bin/env bash
# Installs hpmanagerd as a systemd service on Debian 12 (run as root from the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
make release
BIN=$(swift build -c release --show-bin-path)
install -m 0755 "$BIN/hpmanagerd" /usr/local/bin/hpmanagerd
install -m 0755 "$BIN/hpsim" /usr/local/bin/hpsim
install -m 0755 "$BIN/hpmanagerctl" /usr/local/bin/hpmanagerctl
id hpmanager >/dev/null 2>&1 || useradd --system --home /var/lib/hpmanager --shell /usr/sbin/nologin hpmanager
install -d -m 0755 /etc/hpmanager
for f in heatpumps.yml registers.yml display.yml; do
  [ -e "/etc/hpmanager/$f" ] || install -m 0644 "config/$f" "/etc/hpmanager/$f"
done
# collector.yml may hold the InfluxDB token or password: readable by the daemon's group only.
[ -e /etc/hpmanager/collector.yml ] || install -m 0640 -o root -g hpmanager config/collector.yml /etc/hpmanager/collector.yml
chown root:hpmanager /etc/hpmanager/collector.yml
chmod 0640 /etc/hpmanager/collector.yml
install -d -m 0755 -o hpmanager -g hpmanager /var/lib/prometheus/node-exporter
install -d -m 0755 /usr/local/share/doc/hpmanager
install -m 0644 README.md /usr/local/share/doc/hpmanager/README.md
install -m 0644 deploy/hpmanagerd.service /etc/systemd/system/hpmanagerd.service
/usr/local/bin/hpmanagerd --config-dir /etc/hpmanager --check
systemctl daemon-reload
systemctl enable --now hpmanagerd
echo "hpmanagerd installed. Edit /etc/hpmanager/*.yml, then: systemctl reload hpmanagerd"
