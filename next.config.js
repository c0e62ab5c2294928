/**
 * Next.js configuration (ESM: package.json has "type": "module").
 *
 * Server-side packages with native code, dynamic requires or worker threads stay outside the server bundle
 * and are loaded by Node's own resolver at run time. Prisma 7's generated client (prisma-client generator)
 * runs on the WebAssembly query compiler through a driver adapter; the adapters and their drivers
 * (better-sqlite3 is a native addon, pg has optional native bindings) are kept external too, as Prisma's
 * Next.js guidance for driver adapters recommends.
 */

/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: [
    "better-sqlite3",
    "@prisma/client",
    "@prisma/adapter-better-sqlite3",
    "@prisma/adapter-pg",
    "@prisma/driver-adapter-utils",
    "pg",
    "@grpc/grpc-js",
    "@grpc/proto-loader",
    "pino",
  ],
  poweredByHeader: false,
  // The dashboard server (lib/web/http/dashboardServer.ts, what `moe-telemetry serve` runs) gzips responses itself,
  // synchronously per chunk, so streamed pages reach the browser while the server still reads; Next's
  // compression held them in zlib's thread pool behind the synchronous SQLite reads. `next start` and
  // `next dev` therefore answer uncompressed.
  compress: false,
  experimental: {
    // proxy.ts buffers request bodies for the route handlers and cuts them at 10 MB by default, which would
    // truncate dashboard imports; allow the import limit (LIMITS.maxImportUploadBytes, 64 MiB) plus the form framing.
    proxyClientMaxBodySize: "65mb",
  },
  reactStrictMode: true,
};

export default nextConfig;
