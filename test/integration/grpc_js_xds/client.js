// A third-party xDS client against remora-mock-cp: @grpc/grpc-js-xds resolves xds:///echo-service
// through the mock control plane (LDS -> RDS -> CDS -> EDS over ADS) and calls the backend that
// this script serves itself on 127.0.0.1:0.
//
//   node client.js XDS_PORT WORK_DIR
//
// Prints "backend-port=<port>" once the backend listens (the test then publishes the endpoint),
// then "reply=<message>" and exits 0 when the call through xDS succeeds; exits 1 otherwise.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [xdsPort, workDir] = process.argv.slice(2);
if (!xdsPort || !workDir) {
  console.error('usage: node client.js XDS_PORT WORK_DIR');
  process.exit(2);
}

const definition = protoLoader.loadSync(path.join(__dirname, 'echo.proto'));
const Echo = grpc.loadPackageDefinition(definition).remora.test.Echo;

function fail(what, error) {
  console.error(`${what}: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
}

const backend = new grpc.Server();
backend.addService(Echo.service, {
  Say: (call, callback) => callback(null, {message: `backend got '${call.request.message}'`}),
});
backend.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) fail('backend bind', error);
  console.log(`backend-port=${port}`);

  // The bootstrap must be in place before the xds resolver first reads it.
  const bootstrap = path.join(workDir, 'xds-bootstrap.json');
  fs.writeFileSync(bootstrap, JSON.stringify({
    xds_servers: [{
      server_uri: `127.0.0.1:${xdsPort}`,
      channel_creds: [{type: 'insecure'}],
      server_features: ['xds_v3'],
    }],
    node: {id: 'grpc-js-xds-test', cluster: 'remora-test', locality: {region: 'local'}},
  }));
  process.env.GRPC_XDS_BOOTSTRAP = bootstrap;
  require('@grpc/grpc-js-xds').register();

  const client = new Echo('xds:///echo-service', grpc.credentials.createInsecure());
  // Wait for ready: the endpoint is published only after this script printed the backend port.
  const metadata = new grpc.Metadata();
  metadata.setOptions({waitForReady: true});
  const deadline = new Date(Date.now() + 30000);
  client.Say({message: 'hello'}, metadata, {deadline}, (error, reply) => {
    if (error) fail('call through xds:///echo-service', error);
    console.log(`reply=${reply.message}`);
    // The xDS client keeps its ADS stream open; nothing else is left to wait for.
    process.exit(0);
  });
});
