// The CloudFormation templates of a cloud assembly, nested stacks and stages included, each with the
// region its stack deploys to (undefined for an environment-agnostic stack, which may go anywhere).
// Read by scripts/cfn-lint.js and test/helpers/collect-templates.ts.
const fs = require('fs');
const path = require('path');

/** @returns {{ file: string, region: string | undefined }[]} */
function assemblyTemplates(directory) {
  const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'manifest.json'), 'utf8'));
  const artifacts = manifest.artifacts ?? {};
  const templates = [];
  for (const artifact of Object.values(artifacts)) {
    if (artifact.type === 'cdk:cloud-assembly') {
      templates.push(...assemblyTemplates(path.join(directory, artifact.properties.directoryName)));
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    // aws://<account>/<region>; cx-api writes 'unknown-region' for a stack without env.region.
    const region = /^aws:\/\/[^/]+\/(.+)$/.exec(artifact.environment ?? '')?.[1];
    const known = region && region !== 'unknown-region' ? region : undefined;
    const own = artifact.properties.templateFile;
    templates.push({ file: path.join(directory, own), region: known });
    // Nested stacks' templates are file assets of the stack that holds them.
    for (const dependency of artifact.dependencies ?? []) {
      const assets = artifacts[dependency];
      if (assets?.type !== 'cdk:asset-manifest') continue;
      const files = JSON.parse(fs.readFileSync(path.join(directory, assets.properties.file), 'utf8')).files ?? {};
      for (const asset of Object.values(files)) {
        const source = asset.source?.path;
        if (source && source !== own && source.endsWith('.template.json')) {
          templates.push({ file: path.join(directory, source), region: known });
        }
      }
    }
  }
  return templates;
}

module.exports = { assemblyTemplates };
