#!/usr/bin/env bash
# Regenerate static/usa_110m.json, the US base map of the app's network map.
#
# Plotly draws geo maps on topojson it normally fetches from its CDN when the chart is
# shown; the workbench runs offline, so the app serves this copy itself (Streamlit static
# serving) and points plotly at it (`topojsonURL`). The file is the one plotly.js ships in
# its npm package; this script takes it from there. It needs npm, only for this step.
set -euo pipefail
version="${1:-3.1.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "plotly.js@$version" >/dev/null)
tar -xzf "$work/plotly.js-$version.tgz" -C "$work" package/dist/topojson/usa_110m.json
cp "$work/package/dist/topojson/usa_110m.json" "$root/static/usa_110m.json"
echo "static/usa_110m.json from plotly.js $version ($(wc -c <"$root/static/usa_110m.json") bytes)"
