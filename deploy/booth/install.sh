#!/bin/sh
# Turns a fresh Debian 12 computer into a Dialog booth: printer-agent and the kiosk screen.
# Run as root from the repository checkout at /opt/dialog/src (deploy/booth/README.md):
#   sh deploy/booth/install.sh VID:PID     # the receipt printer's USB ids, from `lsusb`
# Safe to run again (after an update of the checkout, or to change the printer).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
printer_ids=${1:-}

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
case "$printer_ids" in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
    *) echo "usage: $0 VID:PID (the printer's ids from lsusb, lower-case hex)" >&2; exit 2 ;;
esac
vendor=${printer_ids%:*}
product=${printer_ids#*:}

echo "== packages"
apt-get update
apt-get install -y --no-install-recommends \
    python3 python3-venv ca-certificates fonts-dejavu-core libusb-1.0-0 usbutils \
    cage chromium alsa-utils

echo "== users"
getent group lp >/dev/null || groupadd --system lp
id dialog-printer >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin dialog-printer
id kiosk >/dev/null 2>&1 || useradd --create-home --shell /usr/sbin/nologin kiosk
# The compositor needs the screen, the GPU, the touchscreen and the sound card.
usermod -aG video,render,input,audio kiosk

echo "== printer-agent into /opt/dialog/venv"
if [ ! -x /opt/dialog/tools/bin/uv ]; then
    python3 -m venv /opt/dialog/tools
    /opt/dialog/tools/bin/pip install --quiet uv
fi
(cd "$src" && UV_PROJECT_ENVIRONMENT=/opt/dialog/venv UV_PYTHON_DOWNLOADS=never \
    /opt/dialog/tools/bin/uv sync --frozen --no-dev --no-editable --package printer-agent)

echo "== settings in /etc/dialog (root only)"
install -d -m 0700 /etc/dialog
for name in printer-agent kiosk; do
    if [ ! -f "/etc/dialog/$name.env" ]; then
        install -m 0600 "$here/$name.env.example" "/etc/dialog/$name.env"
        echo "   fill in /etc/dialog/$name.env, then run this again"
    fi
done
if grep -q '<' /etc/dialog/printer-agent.env /etc/dialog/kiosk.env; then
    echo "/etc/dialog/*.env still hold <placeholders>: fill them in and run this again" >&2
    exit 3
fi

echo "== printer udev rule ($vendor:$product)"
sed "s/04b8/$vendor/g; s/0e15/$product/g" "$here/60-dialog-receipt-printer.rules" \
    > /etc/udev/rules.d/60-dialog-receipt-printer.rules
udevadm control --reload
udevadm trigger --subsystem-match=usb --subsystem-match=usbmisc

echo "== kiosk screen"
# The camera and microphone for the booth UI's origin only, and no other site at all.
url=$(sed -n 's/^DIALOG_KIOSK_URL=//p' /etc/dialog/kiosk.env)
origin=$(printf '%s\n' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')
install -d /etc/chromium/policies/managed
sed "s#__BOOTH_ORIGIN__#$origin#g" "$here/chromium-policy.json" \
    > /etc/chromium/policies/managed/dialog.json
install -D -m 0755 "$here/kiosk-browser" /usr/local/lib/dialog/kiosk-browser

echo "== services"
install -m 0644 "$here/dialog-printer-agent.service" "$here/dialog-kiosk.service" \
    /etc/systemd/system/
systemctl daemon-reload
systemctl set-default graphical.target
systemctl enable --now dialog-printer-agent.service dialog-kiosk.service
systemctl --no-pager --lines=5 status dialog-printer-agent.service || true
echo "done: test-print with  /opt/dialog/venv/bin/python $here/test-print.py"
