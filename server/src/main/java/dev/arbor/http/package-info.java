/**
 * BanyanDB's HTTP API (the JSON gateway mounted under {@code /api} on the HTTP port): each route
 * is translated to its gRPC method and run through the very service definitions — interceptors
 * for authentication, roles, limits and metrics included — that serve the gRPC port, so an
 * operation has one implementation. Knows gRPC and protobuf, nothing of the services behind them.
 */
package dev.arbor.http;
