/**
 * Test fixtures shared across packages: real resources (filesystems, silent peers) tests need and
 * set up, and raw gRPC calls by method name for the role tables.
 */
package dev.arbor.testing;
