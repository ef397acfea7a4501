#!/usr/bin/env bash
# Self-test of tlog-verify, the independent transparency-log verifier: go vet, then
# go test -v in GOPATH mode with Debian's Go 1.19 and golang.org/x/mod 0.7 (apt-get
# install golang-go golang-golang-x-mod-dev; nothing is downloaded). Extra arguments
# go to go test, e.g. ./selftest.sh -run Receipt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS=
/usr/bin/go vet .
/usr/bin/go test -count=1 -v . "$@"
