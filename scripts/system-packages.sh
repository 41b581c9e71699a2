#!/usr/bin/env bash
# Debian packages Dialog needs on a developer's or CI machine: the receipt font, RabbitMQ
# (tests start it if it is stopped) and Chromium (the booth's browser tests drive it through
# Playwright; Playwright's own browser download cannot be used), espeak-ng (the booth's spoken
# prompts in Kazakh and Russian, offline) and npm (axe-core for the browser tests' accessibility
# checks) and nginx (the reverse proxy in front of the per-client limit tests; never started as
# a service). Installs only what is missing; needs root to install.
set -euo pipefail

missing=()
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=(fonts-dejavu-core)
command -v rabbitmq-server >/dev/null 2>&1 || [[ -x /usr/sbin/rabbitmq-server ]] || missing+=(rabbitmq-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
# Prometheus' server and promtool: the alert rules' unit tests and the scrape test.
[[ -x /usr/bin/promtool ]] || missing+=(prometheus)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[[ -x /usr/sbin/nginx ]] || missing+=(nginx)

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "please install: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
