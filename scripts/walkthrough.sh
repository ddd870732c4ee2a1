#!/usr/bin/env bash
# Offline sign-and-verify walk-through: PKI for three provinces (ES256, PS256, SM2SM3), one
# signed trust list, licences signed in each province and verified against it, then a
# revocation. Everything is written to the directory given (default: ./walkthrough).
set -euo pipefail

out=${1:-walkthrough}
cd "$(dirname "$0")/.."
cargo build --release --quiet
huren=$PWD/target/release/huren
mkdir -p "$out"
cd "$out"
export HUREN_KEY_PASSPHRASE=${HUREN_KEY_PASSPHRASE:-walkthrough passphrase, not for production}

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

if [ ! -e op/operator.json ]; then
  step "operator and three provinces"
  "$huren" pki init-operator --out op
  "$huren" pki init-region --region 330000 --out zj --alg ES256 --public-url https://issuer.zj.example
  "$huren" pki init-region --region 320000 --out js --alg PS256 --public-url https://issuer.js.example
  "$huren" pki init-region --region 340000 --out ah --alg SM2SM3 --public-url https://issuer.ah.example
fi

step "trust list signed by the operator"
seq=$(( $(date +%s) ))
"$huren" trust build --operator op --region zj --region js --region ah --seq "$seq" --out trust-list.jwt

cat > licence.json <<'JSON'
{
  "type_code": "11100000000013338W032",
  "type_name": "建筑业企业资质证书",
  "number": "D233012345",
  "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
  "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
  "issued_on": "2026-11-22",
  "valid_from": "2026-11-22",
  "valid_until": "2031-11-21",
  "face": {"资质类别及等级": "建筑工程施工总承包壹级"}
}
JSON

mkdir -p status
for region in zj js ah; do
  code=$(sed -n 's/.*"code": "\([0-9]*\)".*/\1/p' "$region/region.json" | head -n1)
  prefix=$(sed -n 's/.*"public_url": "\(.*\)".*/\1/p' "$region/region.json")
  uri="$prefix/v1/status/$code-0"
  step "$region: sign a licence (status index 7 in $uri) and verify it as a window in another province would"
  "$huren" sign --region-dir "$region" --licence licence.json --status-idx 7 --status-uri "$uri" --qr > "$region.qr"
  "$huren" status-list --region-dir "$region" --uri "$uri" --out "status/$region.jwt"
  "$huren" verify --trust-list trust-list.jwt --operator-cert op/operator.crt.pem --status-dir status - < "$region.qr" > "$region.report.json"
done

step "zj: revoke index 7 and verify again (exit code 1 = invalid)"
zj_uri="https://issuer.zj.example/v1/status/330000-0"
"$huren" status-list --region-dir zj --uri "$zj_uri" --revoke 7 --out status/zj.jwt
set +e
"$huren" verify --trust-list trust-list.jwt --operator-cert op/operator.crt.pem --status-dir status - < zj.qr > zj.revoked.json
echo "exit code: $?" >&2
set -e

step "done: reports are in $PWD/*.json; the trusted keys as a JWKS:"
"$huren" trust jwks --trust-list trust-list.jwt --operator-cert op/operator.crt.pem | head -n 12
