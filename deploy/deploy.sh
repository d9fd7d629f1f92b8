#!/usr/bin/env bash
# Deploys qr-upload to AWS with the AWS CLI (Debian's awscli):
#   1. builds the two function packages (deploy/package.sh),
#   2. uploads them to an artifacts bucket under content-addressed keys,
#   3. deploys deploy/template.yaml as the stack qr-upload-ENV,
#   4. writes the stack's endpoints into a copy of web/ (config.js) and syncs it to the site bucket.
#
# Usage: deploy/deploy.sh ENV
# Environment:
#   AWS_REGION / AWS_PROFILE  as for the aws CLI (region falls back to `aws configure get region`)
#   ARTIFACTS_BUCKET          bucket for the zips (default qr-upload-artifacts-ACCOUNT-REGION,
#                             created private if missing)
#   PARAMETER_OVERRIDES       extra template parameters, e.g. "MaxUploadBytes=10485760 PointInTimeRecovery=true"
#   SKIP_PACKAGE=1            use the zips already in DIST_DIR (default dist/) instead of building
# The repository's web/config.js is never modified.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Writes web/config.js's format: window.QR_UPLOAD_CONFIG = {apiBase, wsUrl, phoneUrl, maxUploadBytes}.
write_web_config() {
  local file=$1 api_base=$2 ws_url=$3 phone_url=$4 max_upload_bytes=$5
  local value
  # The values are stack outputs (URLs, a number); refuse anything that would need JS escaping.
  for value in "$api_base" "$ws_url" "$phone_url"; do
    if ! [[ "$value" =~ ^[A-Za-z0-9:/._~%-]*$ ]]; then
      echo "deploy.sh: unexpected characters in '$value'" >&2
      return 1
    fi
  done
  if ! [[ "$max_upload_bytes" =~ ^[0-9]+$ ]]; then
    echo "deploy.sh: MaxUploadBytes '$max_upload_bytes' is not a number" >&2
    return 1
  fi
  cat >"$file" <<EOF
// Written by deploy/deploy.sh from the CloudFormation stack's outputs.
window.QR_UPLOAD_CONFIG = {
  apiBase: "$api_base",
  wsUrl: "$ws_url",
  phoneUrl: "$phone_url",
  maxUploadBytes: $max_upload_bytes
};
EOF
}

# Prints one output of the stack.
stack_output() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

main() {
  local env_name=${1:-}
  if ! [[ "$env_name" =~ ^[a-z0-9][a-z0-9-]{0,9}$ ]]; then
    echo "usage: deploy/deploy.sh ENV   (ENV: 1-10 of a-z 0-9 -, e.g. dev)" >&2
    exit 2
  fi
  command -v aws >/dev/null || { echo "deploy.sh: the aws CLI is required (apt-get install awscli)" >&2; exit 1; }

  local stack="qr-upload-$env_name"
  local region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}
  [[ -n "$region" ]] || { echo "deploy.sh: set AWS_REGION" >&2; exit 1; }
  export AWS_REGION=$region AWS_DEFAULT_REGION=$region
  local account
  account=$(aws sts get-caller-identity --query Account --output text)
  local artifacts=${ARTIFACTS_BUCKET:-qr-upload-artifacts-$account-$region}
  local dist=${DIST_DIR:-$repo/dist}

  if [[ "${SKIP_PACKAGE:-}" != 1 ]]; then
    DIST_DIR=$dist "$repo/deploy/package.sh"
  fi

  if ! aws s3api head-bucket --bucket "$artifacts" >/dev/null 2>&1; then
    echo "Creating artifacts bucket $artifacts"
    if [[ "$region" == us-east-1 ]]; then
      aws s3api create-bucket --bucket "$artifacts" >/dev/null
    else
      aws s3api create-bucket --bucket "$artifacts" \
        --create-bucket-configuration "LocationConstraint=$region" >/dev/null
    fi
    aws s3api put-public-access-block --bucket "$artifacts" --public-access-block-configuration \
      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  fi

  # A key per content: a new build gets a new key, so CloudFormation sees new code to deploy.
  local fn digest http_key="" ws_key=""
  for fn in http_api_handler websocket_event_handler; do
    [[ -f "$dist/$fn.zip" ]] || { echo "deploy.sh: $dist/$fn.zip missing" >&2; exit 1; }
    digest=$(sha256sum "$dist/$fn.zip" | cut -c1-16)
    local key="qr-upload/$env_name/$fn-$digest.zip"
    aws s3 cp "$dist/$fn.zip" "s3://$artifacts/$key" --only-show-errors
    if [[ "$fn" == http_api_handler ]]; then http_key=$key; else ws_key=$key; fi
  done

  local -a overrides=("Env=$env_name" "ArtifactsBucket=$artifacts" "HttpApiCodeKey=$http_key"
                      "WebSocketEventCodeKey=$ws_key")
  if [[ -n "${PARAMETER_OVERRIDES:-}" ]]; then
    local -a extra
    read -r -a extra <<<"$PARAMETER_OVERRIDES"
    overrides+=("${extra[@]}")
  fi
  aws cloudformation deploy \
    --template-file "$repo/deploy/template.yaml" \
    --stack-name "$stack" \
    --capabilities CAPABILITY_IAM \
    --no-fail-on-empty-changeset \
    --parameter-overrides "${overrides[@]}"

  local api_base ws_url phone_url site_url site_bucket distribution max_upload
  api_base=$(stack_output "$stack" HttpApiUrl)
  ws_url=$(stack_output "$stack" WebSocketUrl)
  phone_url=$(stack_output "$stack" PhoneUrl)
  site_url=$(stack_output "$stack" SiteUrl)
  site_bucket=$(stack_output "$stack" SiteBucketName)
  distribution=$(stack_output "$stack" SiteDistributionId)
  max_upload=$(stack_output "$stack" MaxUploadBytes)

  # The pages go up from a temporary copy: the repository's config.js serves `qr-upload serve`.
  site_dir=$(mktemp -d)
  trap 'rm -rf "$site_dir"' EXIT
  cp -R "$repo/web/." "$site_dir/"
  rm -rf "$site_dir/node_modules" "$site_dir/package.json" "$site_dir/package-lock.json"
  write_web_config "$site_dir/config.js" "$api_base" "$ws_url" "$phone_url" "$max_upload"
  aws s3 sync "$site_dir/" "s3://$site_bucket/" --delete --only-show-errors --exclude config.js
  aws s3 cp "$site_dir/config.js" "s3://$site_bucket/config.js" --only-show-errors \
    --content-type "application/javascript" --cache-control "no-store"
  aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/*" >/dev/null

  echo "Deployed $stack in $region"
  echo "  site:      $site_url"
  echo "  phone:     $phone_url"
  echo "  HTTP API:  $api_base"
  echo "  WebSocket: $ws_url"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
