/**
 * Domain exceptions thrown anywhere inside Arbor. They carry no transport detail; the gRPC edge
 * ({@code dev.arbor.transport.StatusMapping}) maps them to status codes in one place.
 */
package dev.arbor.errors;
