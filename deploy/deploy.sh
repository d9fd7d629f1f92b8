#!/usr/bin/env bash
# Deploys qr-upload to AWS with the AWS CLI (Debian's awscli):
#   1. builds the two function packages (deploy/package.sh),
#   2. uploads them to an artifacts bucket under content-addressed keys,
#   3. deploys a rendered copy of deploy/template.yaml as the stack qr-upload-ENV (the WebSocket
#      deployment's logical ID carries a hash of the WebSocket routes, so changed routes are
#      deployed); a stack left in ROLLBACK_COMPLETE by a failed first create is deleted first,
#   4. writes the stack's endpoints into a copy of web/ (config.js) and syncs it to the site bucket.
#
# Usage: deploy/deploy.sh ENV                   deploy (create or update qr-upload-ENV)
#        deploy/deploy.sh --delete ENV          empty the stack's buckets (photos and pages), delete
#                                               the stack and wait; drop ENV's packages
#        deploy/deploy.sh --replay-failed ENV   re-invoke the event function with each S3 event in
#                                               the failed-events queue; delete each that succeeds
# Environment:
#   AWS_REGION / AWS_PROFILE  as for the aws CLI (region falls back to `aws configure get region`)
#   ARTIFACTS_BUCKET          bucket for the zips (default qr-upload-artifacts-ACCOUNT-REGION,
#                             created private if missing)
#   PARAMETER_OVERRIDES       extra template parameters, e.g. "MaxUploadBytes=10485760 PointInTimeRecovery=true"
#   SKIP_PACKAGE=1            use the zips already in DIST_DIR (default dist/) instead of building
# The repository's web/config.js is never modified. --replay-failed also needs python3 (to read
# the queue's JSON messages).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Writes web/config.js's format: window.QR_UPLOAD_CONFIG = {apiBase, wsUrl, phoneUrl, maxUploadBytes},
# plus confirmTimeoutMs for AWS.
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
  # On AWS the phone confirms a photo S3 took through the session, which lists it only once S3's
  # event has run the Lambda: seconds, up to a minute on a cold start. The phone waits 90 s.
  # The pages are on CloudFront and the API on API Gateway: no shortLinkBase (the phone page's
  # address and the code are typed instead).
  local confirm_timeout_ms=90000
  cat >"$file" <<EOF
// Written by deploy/deploy.sh from the CloudFormation stack's outputs.
window.QR_UPLOAD_CONFIG = {
  apiBase: "$api_base",
  wsUrl: "$ws_url",
  phoneUrl: "$phone_url",
  maxUploadBytes: $max_upload_bytes,
  confirmTimeoutMs: $confirm_timeout_ms
};
EOF
}

# Prints one output of the stack.
stack_output() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

# Prints the stack's status (CREATE_COMPLETE, ROLLBACK_COMPLETE, ...), or NONE when it does not
# exist; any other failure of the CLI is reported and fails.
stack_status() {
  local out
  if out=$(aws cloudformation describe-stacks --stack-name "$1" \
             --query "Stacks[0].StackStatus" --output text 2>&1); then
    echo "$out"
  elif [[ "$out" == *"does not exist"* ]]; then
    echo NONE
  else
    echo "$out" >&2
    return 1
  fi
}

# Prints a 12-hex-digit hash of the template's "WebSocket API" section (its API, integration,
# routes, deployment and stage): the lines from that section's marker comment to the next one.
websocket_routes_hash() {
  local section
  section=$(awk '/^  # -+ WebSocket API$/ { on = 1; print; next }
                 on && /^  # -+ / { exit }
                 on { print }' "$1")
  if [[ -z "$section" ]]; then
    echo "deploy.sh: no 'WebSocket API' section in $1" >&2
    return 1
  fi
  printf '%s\n' "$section" | sha256sum | cut -c1-12
}

# Copies template SRC to DEST with the logical ID WebSocketDeployment renamed
# WebSocketDeployment<HASH>. CloudFormation creates a new resource for a new logical ID (and
# deletes the old one once the stage points elsewhere); a changed Description alone would only
# update the old deployment in place, which never re-reads the routes.
render_template() {
  local src=$1 dest=$2 hash=$3
  if ! grep -q '^  WebSocketDeployment:$' "$src"; then
    echo "deploy.sh: $src declares no WebSocketDeployment" >&2
    return 1
  fi
  sed -E "s/\bWebSocketDeployment\b/WebSocketDeployment$hash/g" "$src" >"$dest"
}

# Prints the names of the stack's S3 buckets, one a line.
stack_buckets() {
  local names name
  names=$(aws cloudformation list-stack-resources --stack-name "$1" \
            --query "StackResourceSummaries[?ResourceType=='AWS::S3::Bucket'].PhysicalResourceId" \
            --output text)
  for name in $names; do
    if [[ "$name" != None ]]; then echo "$name"; fi
  done
}

# Deletes the stack and waits. CloudFormation cannot delete a bucket that holds objects, so the
# stack's buckets (photos, pages) are emptied first; they are not versioned, so `s3 rm` is enough.
delete_stack() {
  local stack=$1 buckets bucket
  buckets=$(stack_buckets "$stack")
  for bucket in $buckets; do
    if aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
      echo "Emptying s3://$bucket"
      aws s3 rm "s3://$bucket" --recursive --only-show-errors
    fi
  done
  echo "Deleting stack $stack"
  aws cloudformation delete-stack --stack-name "$stack"
  if ! aws cloudformation wait stack-delete-complete --stack-name "$stack"; then
    echo "deploy.sh: $stack was not deleted; see its events:" >&2
    echo "  aws cloudformation describe-stack-events --stack-name $stack" >&2
    return 1
  fi
}

# Splits a receive-message answer (FILE) into PREFIX.N.{id,handle,payload}, skipping messages
# whose id is listed in SEEN (and adding the others to it); prints how many it wrote. A message
# that is not a Lambda invocation record (no requestPayload) gets no payload file.
split_messages() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
answer, prefix, seen_file = sys.argv[1:]
with open(answer) as f:
    text = f.read().strip()
messages = json.loads(text).get("Messages", []) if text else []
with open(seen_file) as f:
    seen = set(f.read().split())
count = 0
with open(seen_file, "a") as seen_out:
    for m in messages:
        if m["MessageId"] in seen:
            continue
        seen_out.write(m["MessageId"] + "\n")
        base = "%s.%d" % (prefix, count)
        with open(base + ".id", "w") as out:
            out.write(m["MessageId"])
        with open(base + ".handle", "w") as out:
            out.write(m["ReceiptHandle"])
        try:
            payload = json.loads(m["Body"])["requestPayload"]
        except (ValueError, KeyError, TypeError):
            payload = None
        if payload is not None:
            with open(base + ".payload", "w") as out:
                json.dump(payload, out)
        count += 1
print(count)
PY
}

# Re-invokes the event function (synchronously, so its answer is known) with the original event
# (requestPayload) of each message in the failed-events queue, and deletes each message whose
# replay succeeded. Those that fail again stay in the queue (hidden for 15 minutes by the
# receive). Fails if any did.
replay_failed() {
  local stack=$1 work=$2 queue fn
  queue=$(stack_output "$stack" FailedEventsQueueUrl)
  fn=$(stack_output "$stack" WebSocketEventFunctionName)
  if [[ -z "$queue" || "$queue" == None || -z "$fn" || "$fn" == None ]]; then
    echo "deploy.sh: $stack has no failed-events queue (deploy it with this template first)" >&2
    return 1
  fi
  command -v python3 >/dev/null || { echo "deploy.sh: --replay-failed needs python3" >&2; return 1; }
  local replayed=0 failed=0 n i base id
  : >"$work/seen"
  while :; do
    aws sqs receive-message --queue-url "$queue" --max-number-of-messages 10 \
      --visibility-timeout 900 --wait-time-seconds 2 --output json >"$work/batch.json"
    rm -f "$work"/msg.*
    n=$(split_messages "$work/batch.json" "$work/msg" "$work/seen")
    ((n > 0)) || break
    for ((i = 0; i < n; i++)); do
      base="$work/msg.$i"
      id=$(<"$base.id")
      if [[ ! -f "$base.payload" ]]; then
        echo "  $id: not a Lambda invocation record; left in the queue" >&2
        failed=$((failed + 1))
        continue
      fi
      if aws lambda invoke --function-name "$fn" --payload "fileb://$base.payload" \
           --cli-read-timeout 120 --output json "$base.response" >"$base.meta" &&
         ! grep -q '"FunctionError"' "$base.meta"; then
        aws sqs delete-message --queue-url "$queue" --receipt-handle "$(<"$base.handle")"
        replayed=$((replayed + 1))
      else
        echo "  $id: the function failed again: $(head -c 500 "$base.response" 2>/dev/null)" >&2
        failed=$((failed + 1))
      fi
    done
  done
  echo "Replayed $replayed failed event(s) of $stack; $failed still failing (left in the queue)"
  ((failed == 0))
}

# Builds, uploads and deploys ENV, then publishes the pages.
deploy() {
  local env_name=$1 stack=$2 region=$3 artifacts=$4 work=$5
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

  local routes_hash
  routes_hash=$(websocket_routes_hash "$repo/deploy/template.yaml")
  render_template "$repo/deploy/template.yaml" "$work/template.yaml" "$routes_hash"

  local -a overrides=("Env=$env_name" "ArtifactsBucket=$artifacts" "HttpApiCodeKey=$http_key"
                      "WebSocketEventCodeKey=$ws_key" "WebSocketRoutesHash=$routes_hash")
  if [[ -n "${PARAMETER_OVERRIDES:-}" ]]; then
    local -a extra
    read -r -a extra <<<"$PARAMETER_OVERRIDES"
    overrides+=("${extra[@]}")
  fi

  # A first create that failed leaves the stack in ROLLBACK_COMPLETE, which can only be deleted.
  local status
  status=$(stack_status "$stack")
  case "$status" in
    ROLLBACK_COMPLETE)
      echo "Stack $stack is in ROLLBACK_COMPLETE (its first create failed); why:"
      aws cloudformation describe-stack-events --stack-name "$stack" \
        --query "StackEvents[?ResourceStatus=='CREATE_FAILED'].[LogicalResourceId,ResourceStatusReason]" \
        --output text || true
      echo "Deleting it to create it again"
      delete_stack "$stack"
      ;;
    ROLLBACK_FAILED | DELETE_FAILED)
      echo "deploy.sh: $stack is in $status; run deploy/deploy.sh --delete $env_name first" >&2
      exit 1
      ;;
  esac

  # The template goes through the artifacts bucket: CloudFormation refuses a template body over
  # 51,200 bytes.
  aws cloudformation deploy \
    --template-file "$work/template.yaml" \
    --stack-name "$stack" \
    --s3-bucket "$artifacts" \
    --s3-prefix "qr-upload/$env_name/templates" \
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
  local site_dir="$work/site"
  mkdir -p "$site_dir"
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

usage() {
  echo "usage: deploy/deploy.sh [--delete | --replay-failed] ENV   (ENV: 1-10 of a-z 0-9 -, e.g. dev)" >&2
  exit 2
}

main() {
  local mode=deploy
  case "${1:-}" in
    --delete) mode=delete; shift ;;
    --replay-failed) mode=replay; shift ;;
    -*) usage ;;
  esac
  local env_name=${1:-}
  [[ $# -eq 1 && "$env_name" =~ ^[a-z0-9][a-z0-9-]{0,9}$ ]] || usage
  command -v aws >/dev/null || { echo "deploy.sh: the aws CLI is required (apt-get install awscli)" >&2; exit 1; }

  local stack="qr-upload-$env_name"
  local region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}
  [[ -n "$region" ]] || { echo "deploy.sh: set AWS_REGION" >&2; exit 1; }
  export AWS_REGION=$region AWS_DEFAULT_REGION=$region
  local account
  account=$(aws sts get-caller-identity --query Account --output text)
  local artifacts=${ARTIFACTS_BUCKET:-qr-upload-artifacts-$account-$region}

  # Global, for the EXIT trap.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT

  case "$mode" in
    deploy)
      deploy "$env_name" "$stack" "$region" "$artifacts" "$work"
      ;;
    delete)
      local status
      status=$(stack_status "$stack")
      if [[ "$status" == NONE ]]; then
        echo "No stack $stack in $region"
      else
        delete_stack "$stack"
      fi
      # The shared artifacts bucket stays; only this environment's packages and templates go.
      if aws s3api head-bucket --bucket "$artifacts" >/dev/null 2>&1; then
        aws s3 rm "s3://$artifacts/qr-upload/$env_name/" --recursive --only-show-errors
      fi
      echo "Deleted $stack in $region"
      ;;
    replay)
      replay_failed "$stack" "$work"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
