import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AdminVerbs, parseBody, SubjectPatterns, type AdminReply } from '@broker/contracts';
import { CredentialsService } from './credentials.service.js';

@Controller()
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @MessagePattern(SubjectPatterns.admin('credentials.add'))
  add(@Payload() body: unknown): Promise<AdminReply<'credentials.add'>> {
    return this.credentials.add(parseBody(AdminVerbs['credentials.add'].request, body));
  }

  @MessagePattern(SubjectPatterns.admin('credentials.import'))
  import(@Payload() body: unknown): Promise<AdminReply<'credentials.import'>> {
    return this.credentials.import(parseBody(AdminVerbs['credentials.import'].request, body));
  }

  @MessagePattern(SubjectPatterns.admin('credentials.list'))
  list(@Payload() body: unknown): AdminReply<'credentials.list'> {
    return this.credentials.list(parseBody(AdminVerbs['credentials.list'].request, body));
  }

  @MessagePattern(SubjectPatterns.admin('credentials.get'))
  get(@Payload() body: unknown): AdminReply<'credentials.get'> {
    return this.credentials.get(parseBody(AdminVerbs['credentials.get'].request, body).id);
  }

  @MessagePattern(SubjectPatterns.admin('credentials.status'))
  status(@Payload() body: unknown): AdminReply<'credentials.status'> {
    return this.credentials.status(parseBody(AdminVerbs['credentials.status'].request, body));
  }

  @MessagePattern(SubjectPatterns.admin('credentials.refresh'))
  refresh(@Payload() body: unknown): Promise<AdminReply<'credentials.refresh'>> {
    return this.credentials.refresh(parseBody(AdminVerbs['credentials.refresh'].request, body).id);
  }

  @MessagePattern(SubjectPatterns.admin('credentials.rotate'))
  rotate(@Payload() body: unknown): Promise<AdminReply<'credentials.rotate'>> {
    return this.credentials.rotate(parseBody(AdminVerbs['credentials.rotate'].request, body));
  }

  @MessagePattern(SubjectPatterns.admin('credentials.decommission'))
  decommission(@Payload() body: unknown): Promise<AdminReply<'credentials.decommission'>> {
    const request = parseBody(AdminVerbs['credentials.decommission'].request, body);
    return this.credentials.decommission(request.id, request.reason);
  }

  @MessagePattern(SubjectPatterns.admin('credentials.revoke'))
  revoke(@Payload() body: unknown): Promise<AdminReply<'credentials.revoke'>> {
    const request = parseBody(AdminVerbs['credentials.revoke'].request, body);
    return this.credentials.revoke(request.id, request.reason);
  }
}
