#!/usr/bin/env bash
# Builds the Debian package on this machine and installs it (run as root from the repository root).
# The package creates the hpmanager user, installs the config 0640 root:hpmanager with every heat
# pump disabled, and does not start the service: enable a device first (see README "Install").
set -euo pipefail
cd "$(dirname "$0")/.."
make deb
apt-get install -y "./dist/hpmanager_$(tr -d ' \n' < VERSION)_$(dpkg --print-architecture).deb"
