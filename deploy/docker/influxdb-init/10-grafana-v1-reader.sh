#!/bin/sh
# Runs once, when the influxdb:2 image sets up a new instance (/docker-entrypoint-initdb.d): a v1
# (InfluxQL) login that may only read the hpmanager bucket, for Grafana's "InfluxDB v1 (InfluxQL)"
# datasource. The image's influx CLI is already authenticated with the admin token here.
set -eu
influx v1 auth create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --username "${INFLUXDB_V1_USER}" \
  --password "${INFLUXDB_V1_PASSWORD}" \
  --read-bucket "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --description "Grafana InfluxQL v1 reader (hpmanager compose stack)"
