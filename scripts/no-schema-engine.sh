#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded here.
# `prisma generate` only needs the path to exist; anything that would really use the
# engine (migrate, db push) must fail loudly instead of silently doing nothing.
echo "beacon: the native Prisma schema engine is not installed; use npm run migration:new / the start-up migration runner" >&2
exit 1
