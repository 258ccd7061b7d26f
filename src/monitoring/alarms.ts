/**
 * How every alarm of a platform's monitoring is made, the platform's and each service's alike: its
 * name, its actions on the alarm topic, and the cdk-nag acknowledgements of an alarm that notifies
 * no one. Not part of the library's API.
 */
import { Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeControl, COMPLIANCE_PACKS } from '../private/nag';

/** What an alarm watches; `actions: false` keeps it off the topic. */
export interface PlatformAlarmProps extends cloudwatch.AlarmProps {
  /**
   * Whether the alarm is sent to the topic (in ALARM and back to OK).
   *
   * @default true
   */
  readonly actions?: boolean;
}

/**
 * An alarm in `scope`, named after its construct path, that by default treats missing data as not
 * breaching, needs every evaluation period to breach, and is sent to `alarmTopic` if there is one.
 */
export function createAlarm(scope: Construct, id: string, props: PlatformAlarmProps, alarmTopic?: sns.ITopic): cloudwatch.Alarm {
  const { actions, ...alarmProps } = props;
  const alarm = new cloudwatch.Alarm(scope, id, {
    // A name of its own, unique by the construct path (its stack's name included): the console
    // shows which platform and service an alarm watches, and a service's deployment alarms can be
    // named literally.
    alarmName: `${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${id}`,
    ...alarmProps,
    datapointsToAlarm: props.datapointsToAlarm ?? props.evaluationPeriods,
    treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (alarmTopic && (actions ?? true)) {
    alarm.addAlarmAction(new cwActions.SnsAction(alarmTopic));
    alarm.addOkAction(new cwActions.SnsAction(alarmTopic));
  } else if (alarmTopic) {
    const reason = 'The deployment-failure rule sends each rolled-back deployment to monitoring.alarmTopic with its service and reason; this alarm only counts them for the dashboard and console.';
    acknowledge(alarm, 'CloudWatchAlarmAction', COMPLIANCE_PACKS, reason);
    acknowledgeControl(alarm, 'cloudwatch_alarm_action_check', reason);
  }
  return alarm;
}

/** The name an alarm made by `createAlarm` was given: a literal, unlike `alarm.alarmName`. */
export function literalAlarmName(alarm: cloudwatch.Alarm): string {
  return (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName!;
}

/** Alarms without a topic notify no one: said once per alarm, not stack-wide. */
export function acknowledgeAlarmsWithoutTopic(alarms: cloudwatch.Alarm[], alarmTopic?: sns.ITopic): void {
  if (alarmTopic) {
    return;
  }
  const reason = 'No monitoring.alarmTopic was given: the alarm shows in the console and on the dashboard and drives deployment rollbacks; monitoring: { alarmTopic } sends it to a topic.';
  for (const alarm of alarms) {
    acknowledge(alarm, 'CloudWatchAlarmAction', COMPLIANCE_PACKS, reason);
    acknowledgeControl(alarm, 'cloudwatch_alarm_action_check', reason);
  }
}
