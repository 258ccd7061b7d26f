import { Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { newRegionInCondition } from './regions';

/** A default RDS instance class, and the one to use where RDS for PostgreSQL does not offer it. */
export interface RegionalInstanceClass {
  readonly preferred: ec2.InstanceType;
  readonly fallback: ec2.InstanceType;
  /** Regions whose RDS for PostgreSQL does not offer `preferred`. */
  readonly regionsWithout: readonly string[];
  /** Id of the stack-level condition "the region is one of regionsWithout". */
  readonly conditionId: string;
}

/*
 * Where RDS for PostgreSQL offers the default classes: AWS's CloudFormation linter (cfn-lint 1.51.0,
 * rule E3025, data "gathered from the pricing APIs", cfnlint/data/schemas/extensions/aws_rds_dbinstance/
 * dbinstanceclass_enum.json) lists the PostgreSQL classes of 38 regions. db.t4g.micro is missing in
 * ca-west-1 (aws-cdk-lib's built-in validator agrees); db.m7g.large in af-south-1, ap-east-1,
 * ca-west-1, eu-south-1 and us-gov-west-1. db.t3.micro and db.m6g.large, the same memory (1 and
 * 8 GiB, so the same max_connections), are offered in all 38. The RDS user guide's table per region:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.RegionSupport.html
 */

/** Development default: db.t4g.micro, else db.t3.micro. */
export const DEVELOPMENT_INSTANCE_CLASS: RegionalInstanceClass = {
  preferred: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
  fallback: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
  regionsWithout: ['ca-west-1'],
  conditionId: 'DataflowRegionWithoutDbT4gMicro',
};

/** Production default: db.m7g.large, else db.m6g.large. */
export const PRODUCTION_INSTANCE_CLASS: RegionalInstanceClass = {
  preferred: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
  fallback: ec2.InstanceType.of(ec2.InstanceClass.M6G, ec2.InstanceSize.LARGE),
  regionsWithout: ['af-south-1', 'ap-east-1', 'ca-west-1', 'eu-south-1', 'us-gov-west-1'],
  conditionId: 'DataflowRegionWithoutDbM7gLarge',
};

/**
 * The default class for the stack of `scope`: in a known region the one offered there; in a stack
 * whose region is unknown at synth, `preferred`, which `chooseByRegion` then turns into a choice by
 * a CloudFormation condition on the region.
 */
export function defaultInstanceType(scope: Construct, choice: RegionalInstanceClass): ec2.InstanceType {
  const region = Stack.of(scope).region;
  if (!Token.isUnresolved(region) && choice.regionsWithout.includes(region)) {
    return choice.fallback;
  }
  return choice.preferred;
}

/** In a stack whose region is unknown at synth, the instance's class becomes Fn::If on the region. */
export function chooseByRegion(instance: rds.CfnDBInstance, choice: RegionalInstanceClass): void {
  if (!Token.isUnresolved(Stack.of(instance).region)) {
    return;
  }
  const condition = newRegionInCondition(instance, choice.conditionId, choice.regionsWithout);
  instance.dbInstanceClass = Fn.conditionIf(condition.logicalId, `db.${choice.fallback}`, `db.${choice.preferred}`).toString();
}
