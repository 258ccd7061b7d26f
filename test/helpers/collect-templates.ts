/**
 * Keeps every CloudFormation template the test suite synthesizes, nested stacks included, for AWS's
 * linter (scripts/cfn-lint.js, task `cfn-lint` of `npx projen check`).
 *
 * jest runs this file before each test file (setupFilesAfterEnv). It wraps `Stage.synth`, the one
 * call through which `Template.fromStack`, `app.synth()` and the gates' helpers all synthesize, and
 * copies each template of the cloud assembly to `test-reports/cfn-templates/<region>/` (`any/` for an
 * environment-agnostic stack), named by the hash of its content: the same template from two tests is
 * linted once, and parallel workers never write one file twice with different contents.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Stage } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { assemblyTemplates } = require('../../scripts/assembly-templates') as {
  assemblyTemplates(directory: string): Array<{ file: string; region?: string }>;
};

/** Where the templates go; scripts/cfn-lint.js reads the same folder. */
export const COLLECTED_TEMPLATES_DIR = path.join(__dirname, '..', '..', 'test-reports', 'cfn-templates');

const seen = new WeakSet<cxapi.CloudAssembly>();
const original = Stage.prototype.synth;

Stage.prototype.synth = function synth(this: Stage, options?: Parameters<Stage['synth']>[0]): cxapi.CloudAssembly {
  const assembly = original.call(this, options);
  if (!seen.has(assembly)) {
    seen.add(assembly);
    for (const { file, region } of assemblyTemplates(assembly.directory)) {
      const content = fs.readFileSync(file);
      // A stack without resources is never deployed: the CDK CLI skips it (aws-cdk-cli's integ test
      // "deploy stack without resource"), and CloudFormation requires Resources (cfn-lint E1001).
      if (Object.keys(JSON.parse(content.toString('utf8')).Resources ?? {}).length > 0) {
        keep(content, region ?? 'any');
      }
    }
  }
  return assembly;
};

function keep(content: Buffer, folder: string): void {
  const directory = path.join(COLLECTED_TEMPLATES_DIR, folder);
  const target = path.join(directory, `${crypto.createHash('sha256').update(content).digest('hex').slice(0, 20)}.template.json`);
  if (fs.existsSync(target)) return;
  fs.mkdirSync(directory, { recursive: true });
  // Write, then rename: another worker may be writing the same template now.
  const partial = `${target}.${process.pid}.partial`;
  fs.writeFileSync(partial, content);
  fs.renameSync(partial, target);
}
